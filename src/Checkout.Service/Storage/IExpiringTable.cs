namespace CheckoutService.Storage;

/// <summary>A stored value and when it stops being visible.</summary>
public sealed record Entry<T>(T Value, DateTimeOffset ExpiresAt);

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
/// compare-and-set script retried on conflict on Redis. Expiry is judged by the service's
/// <see cref="TimeProvider"/>, so both behave the same and tests can move the clock.
/// </summary>
public interface IExpiringTable<T> where T : class
{
    Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="decide"/> on the live entry (null when absent or expired) and applies its
    /// decision atomically. <paramref name="decide"/> may run more than once, so it must not have side effects.
    /// </summary>
    Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken);
}

/// <summary>Makes the tables: in process by default, on Redis when <c>REDIS_URL</c> is set.</summary>
public interface IExpiringTables
{
    /// <param name="keyPrefix">Prepended to every key, so each kind of record has its own namespace.</param>
    IExpiringTable<T> Open<T>(string keyPrefix, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json) where T : class;
}

/// <summary>A writer kept losing the compare-and-set to other writers of the same key.</summary>
public sealed class StoreContentionException(string key)
    : Exception($"Key {key} kept changing under concurrent writers");

/// <summary>The in-process store is at its cap even after dropping what expired: new work must wait.</summary>
public sealed class StoreFullException() : Exception("The in-process store is full (INPROCESS_STORE_MAX_ENTRIES)");
