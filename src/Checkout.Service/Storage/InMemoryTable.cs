using System.Collections.Concurrent;
using System.Text.Json.Serialization.Metadata;

namespace CheckoutService.Storage;

/// <summary>
/// The embedded stand-in for Redis keys: read lock-free, changed under a per-key lock so a
/// read-decide-write is atomic, as the compare-and-set script is on Redis. A new key needs room
/// under the tables' shared cap (<see cref="InMemoryTables"/>).
/// </summary>
internal sealed class InMemoryTable<T>(InMemoryTables capacity, TimeProvider time, TimeSpan keepAfterExpiry) : IExpiringTable<T>, IExpiringStore where T : class
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) => Task.FromResult(Get(key));

    public Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_slots.TryGetValue(key, out var slot) && slot.Current is { } entry && !IsGone(entry) ? entry : null);

    public Task PurgeAsync(string key, CancellationToken cancellationToken)
    {
        if (_slots.TryGetValue(key, out var slot))
        {
            lock (slot)
            {
                if (!slot.Removed)
                {
                    Remove(key, slot);
                }
            }
        }
        return Task.CompletedTask;
    }

    // What a caller has seen saves nothing here: the live entry is at hand under the lock.
    public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null)
    {
        ArgumentNullException.ThrowIfNull(decide);
        var swept = false;
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
                if (decision.NewValue is not null && (slot.Current is not null || capacity.TryReserve()))
                {
                    slot.Current = new Entry<T>(decision.NewValue, decision.NewExpiry);
                    return Task.FromResult(decision.Result);
                }
                if (decision.Delete || slot.Current is null || IsGone(slot.Current))
                {
                    Remove(key, slot);
                }
                if (decision.NewValue is null)
                {
                    return Task.FromResult(decision.Result);
                }
            }
            // Full: drop what expired (outside any slot's lock, so two full writers cannot deadlock), then try once more.
            if (swept)
            {
                throw new StoreFullException();
            }
            capacity.SweepExpired();
            swept = true;
        }
    }

    /// <summary>Drops expired entries (once past their keep-after-expiry), so the embedded mode does not grow without bound.</summary>
    public void RemoveExpired()
    {
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (!slot.Removed && (slot.Current is null || IsGone(slot.Current)))
                {
                    Remove(key, slot);
                }
            }
        }
    }

    private Entry<T>? Get(string key) => _slots.TryGetValue(key, out var slot) ? Live(slot) : null;

    private Entry<T>? Live(Slot slot) => slot.Current is { } entry && entry.ExpiresAt > time.GetUtcNow() ? entry : null;

    private bool IsGone(Entry<T> entry) => entry.ExpiresAt + keepAfterExpiry <= time.GetUtcNow();

    private void Remove(string key, Slot slot)
    {
        if (slot.Current is not null)
        {
            capacity.Release();
        }
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

/// <summary>
/// The embedded tables, with one cap on their entries together (<c>INPROCESS_STORE_MAX_ENTRIES</c>),
/// so no client can grow the process without bound. At the cap, expired entries are dropped first;
/// if that frees nothing, the write fails with <see cref="StoreFullException"/> (a 503).
/// </summary>
internal sealed class InMemoryTables(TimeProvider time, long maxEntries) : IExpiringTables
{
    /// <summary>A full store sweeps at most this often, so a flood at the cap does not turn into a flood of sweeps.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, IExpiringStore> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InMemoryExpiryIndex> _indexes = new(StringComparer.Ordinal);
    private readonly Lock _sweepGate = new();
    private long _entries;
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    public IEnumerable<IExpiringStore> All => _tables.Values;

    /// <summary>Entries held now, across every table.</summary>
    public long Entries => Interlocked.Read(ref _entries);

    public long MaxEntries => maxEntries;

    // As on Redis, one prefix is one table, whoever opens it.
    public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
        (IExpiringTable<T>)_tables.GetOrAdd(keyPrefix, _ => new InMemoryTable<T>(this, time, keepAfterExpiry));

    public IExpiryIndex OpenIndex(string key) => _indexes.GetOrAdd(key, _ => new InMemoryExpiryIndex(this));

    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _entries) <= maxEntries)
        {
            return true;
        }
        Interlocked.Decrement(ref _entries);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _entries);

    public void SweepExpired(bool force = false)
    {
        lock (_sweepGate)
        {
            var now = time.GetUtcNow();
            if (!force && now - _lastSweep < SweepInterval)
            {
                return;
            }
            _lastSweep = now;
            foreach (var table in _tables.Values)
            {
                table.RemoveExpired();
            }
        }
    }
}

/// <summary>The embedded twin of the Redis sorted set: members ordered by due time, under one lock, counted against the shared cap.</summary>
internal sealed class InMemoryExpiryIndex(InMemoryTables capacity) : IExpiryIndex
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly SortedSet<(DateTimeOffset At, string Member)> _byTime = [];

    public Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_due.TryGetValue(member, out var current))
            {
                if (at <= current)
                {
                    return Task.CompletedTask;
                }
                _byTime.Remove((current, member));
            }
            else if (!capacity.TryReserve())
            {
                throw new StoreFullException();
            }
            _due[member] = at;
            _byTime.Add((at, member));
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<(string, DateTimeOffset)>>(
                [.. _byTime.TakeWhile(e => e.At <= now).Take(limit).Select(e => (e.Member, e.At))]);
        }
    }

    public Task<long> CountAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult((long)_due.Count);
        }
    }

    public Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_due.TryGetValue(member, out var current) || current != at)
            {
                return Task.FromResult(false);
            }
            _due.Remove(member);
            _byTime.Remove((current, member));
            capacity.Release();
            return Task.FromResult(true);
        }
    }
}
