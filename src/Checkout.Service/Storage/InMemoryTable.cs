using System.Collections.Concurrent;
using System.Text.Json.Serialization.Metadata;

namespace CheckoutService.Storage;

/// <summary>
/// The embedded stand-in for Redis keys: read lock-free, changed under a per-key lock so a
/// read-decide-write is atomic, as the compare-and-set script is on Redis.
/// </summary>
internal sealed class InMemoryTable<T>(TimeProvider time) : IExpiringTable<T>, IExpiringStore where T : class
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) => Task.FromResult(Get(key));

    public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decide);
        while (true)
        {
            var slot = _slots.GetOrAdd(key, static _ => new Slot());
            lock (slot)
            {
                if (slot.Removed)
                {
                    continue; // swept between GetOrAdd and lock: take the fresh slot
                }
                var live = Live(slot);
                var decision = decide(live);
                if (decision.NewValue is not null)
                {
                    slot.Current = new Entry<T>(decision.NewValue, decision.NewExpiry);
                }
                else if (decision.Delete || live is null)
                {
                    Remove(key, slot);
                }
                return Task.FromResult(decision.Result);
            }
        }
    }

    /// <summary>Drops expired entries, so the embedded mode does not grow without bound.</summary>
    public void RemoveExpired()
    {
        var now = time.GetUtcNow();
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (!slot.Removed && (slot.Current is null || slot.Current.ExpiresAt <= now))
                {
                    Remove(key, slot);
                }
            }
        }
    }

    private Entry<T>? Get(string key) => _slots.TryGetValue(key, out var slot) ? Live(slot) : null;

    private Entry<T>? Live(Slot slot) => slot.Current is { } entry && entry.ExpiresAt > time.GetUtcNow() ? entry : null;

    private void Remove(string key, Slot slot)
    {
        slot.Removed = true;
        slot.Current = null;
        _slots.TryRemove(new KeyValuePair<string, Slot>(key, slot));
    }

    private sealed class Slot
    {
        // Immutable entries swapped whole, so a lock-free read never sees half a write.
        public volatile Entry<T>? Current;
        public volatile bool Removed;
    }
}

/// <summary>The embedded tables, remembered so the sweeper can drop what expired.</summary>
internal sealed class InMemoryTables(TimeProvider time) : IExpiringTables
{
    private readonly ConcurrentBag<IExpiringStore> _tables = [];

    public IEnumerable<IExpiringStore> All => _tables;

    public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json) where T : class
    {
        var table = new InMemoryTable<T>(time);
        _tables.Add(table);
        return table;
    }
}
