namespace CheckoutService.Storage;

/// <summary>A stored value and when it stops being visible.</summary>
public sealed record Entry<T>(T Value, DateTimeOffset ExpiresAt);

/// <summary>
/// A key as a read found it: its entry, or none. Handed back to a change of the same key, it spares
/// the change its own read; if the key changed meanwhile the change still sees the newest value, at
/// the price of the round trip it tried to save.
/// </summary>
public sealed record Seen<T>(Entry<T>? Entry) where T : class
{
    public static readonly Seen<T> Absent = new((Entry<T>?)null);
}

/// <summary>
/// What a change decides after seeing the current value: what to return, and whether to write
/// a new value (with its expiry), delete the key, or leave it as it is.
/// </summary>
public readonly record struct Decision<TResult, T>(TResult Result, T? NewValue = null, DateTimeOffset NewExpiry = default, bool Delete = false)
    where T : class
{
    public static Decision<TResult, T> Keep(TResult result) => new(result);

    public static Decision<TResult, T> Write(TResult result, T value, DateTimeOffset expiresAt) => new(result, value, expiresAt);

    public static Decision<TResult, T> Remove(TResult result) => new(result, Delete: true);
}

/// <summary>
/// The shared ephemeral state behind carts, sessions and idempotency records: keys with values
/// that expire. A change is an atomic read-decide-write on one key: under a lock in process, a
/// compare-and-set script on Redis that hands a loser the newest value to decide on again. Expiry is judged by the service's
/// <see cref="TimeProvider"/>, so both behave the same and tests can move the clock.
/// </summary>
public interface IExpiringTable<T> where T : class
{
    Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="decide"/> on the live entry (null when absent or expired) and applies its
    /// decision atomically. <paramref name="decide"/> may run more than once, so it must not have side effects.
    /// With <paramref name="seen"/>, the first decision is made on it instead of a fresh read: a
    /// decision to keep stands as of when it was seen, a write lands only if nothing changed since.
    /// </summary>
    Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null);

    /// <summary>The entry even past its expiry, while the table still keeps it (its <c>keepAfterExpiry</c>); null once it is gone.</summary>
    Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the key whatever it holds: for records whose last use is over.</summary>
    Task PurgeAsync(string key, CancellationToken cancellationToken);
}

/// <summary>
/// When each member of a set falls due: a sorted set on Redis (score = due time in Unix ms), its
/// twin in process. Polled, never notified: Redis keyspace notifications are lost when nobody listens.
/// </summary>
public interface IExpiryIndex
{
    /// <summary>Records that <paramref name="member"/> falls due at <paramref name="at"/>; only ever moves it later, so a slow writer cannot pull it back.</summary>
    Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The members due at <paramref name="now"/>, earliest first, with the time each is scheduled for.</summary>
    Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="member"/> only if it is still scheduled at <paramref name="at"/>: one rescheduled meanwhile stays.</summary>
    Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>How many members the index holds, due or not.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken);
}

/// <summary>Makes the tables: in process by default, on Redis when <c>REDIS_URL</c> is set.</summary>
public interface IExpiringTables
{
    /// <param name="keyPrefix">Prepended to every key, so each kind of record has its own namespace.</param>
    /// <param name="json">How a value is stored.</param>
    /// <param name="keepAfterExpiry">How long an expired entry stays readable with <see cref="IExpiringTable{T}.PeekAsync"/>, for work that follows expiry.</param>
    IExpiringTable<T> Open<T>(string keyPrefix, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class;

    /// <summary>An expiry index under one key.</summary>
    IExpiryIndex OpenIndex(string key);
}

/// <summary>A writer kept losing the compare-and-set to other writers of the same key.</summary>
public sealed class StoreContentionException(string key)
    : Exception($"Key {key} kept changing under concurrent writers");

/// <summary>The in-process store is at its cap even after dropping what expired: new work must wait.</summary>
public sealed class StoreFullException() : Exception("The in-process store is full (INPROCESS_STORE_MAX_ENTRIES)");
