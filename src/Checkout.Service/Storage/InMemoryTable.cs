using System.Collections.Concurrent;

namespace CheckoutService.Storage;

/// <summary>
/// The embedded stand-in for Redis keys: values with an expiry, read lock-free and changed
/// under a per-key lock so a read-check-write is atomic, as a Lua script or WATCH is on Redis.
/// </summary>
internal sealed class InMemoryTable<T>(TimeProvider time) where T : class
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>Immutable, so a lock-free read never sees half a write.</summary>
    public sealed record Entry(T Value, DateTimeOffset ExpiresAt);

    /// <summary>What a change decides: the value to store (null: leave as is) and what to return.</summary>
    public readonly record struct Decision<TResult>(TResult Result, T? NewValue = null, DateTimeOffset NewExpiry = default);

    public Entry? Get(string key)
    {
        if (_slots.TryGetValue(key, out var slot) && slot.Current is { } entry && entry.ExpiresAt > time.GetUtcNow())
        {
            return entry;
        }
        return null;
    }

    /// <summary>Runs <paramref name="decide"/> on the live value (null when absent or expired) under the key's lock.</summary>
    public TResult Change<TResult>(string key, Func<Entry?, Decision<TResult>> decide)
    {
        while (true)
        {
            var slot = _slots.GetOrAdd(key, static _ => new Slot());
            lock (slot)
            {
                if (slot.Removed)
                {
                    continue; // swept between GetOrAdd and lock: take the fresh slot
                }
                var live = slot.Current is { } entry && entry.ExpiresAt > time.GetUtcNow() ? entry : null;
                var change = decide(live);
                if (change.NewValue is not null)
                {
                    slot.Current = new Entry(change.NewValue, change.NewExpiry);
                }
                else if (live is null)
                {
                    Remove(key, slot);
                }
                return change.Result;
            }
        }
    }

    /// <summary>Drops expired entries; returns them so a caller can act on what expired.</summary>
    public IReadOnlyList<KeyValuePair<string, T>> RemoveExpired()
    {
        var now = time.GetUtcNow();
        var removed = new List<KeyValuePair<string, T>>();
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (!slot.Removed && slot.Current is { } entry && entry.ExpiresAt <= now)
                {
                    removed.Add(new(key, entry.Value));
                    Remove(key, slot);
                }
            }
        }
        return removed;
    }

    public int Count => _slots.Count;

    private void Remove(string key, Slot slot)
    {
        slot.Removed = true;
        slot.Current = null;
        _slots.TryRemove(new KeyValuePair<string, Slot>(key, slot));
    }

    private sealed class Slot
    {
        public volatile Entry? Current;
        public volatile bool Removed;
    }
}
