using System.Text.Json.Serialization.Metadata;
using CheckoutService.Storage;
using StackExchange.Redis;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>What a call to the shared store touches: a table's key prefix (or an index's key), and whether it writes.</summary>
public readonly record struct StoreCall(string Name, bool IsIndex, bool Writes);

/// <summary>
/// Shared-state tables whose calls fail while <paramref name="fails"/> says so, as Redis's do while a
/// node fails over: the call returns a faulted task with a <see cref="RedisTimeoutException"/>, which
/// the service answers with a 503. Tests pick what fails: everything, one table's writes, the index.
/// </summary>
public sealed class FaultyTables(IExpiringTables inner, Func<StoreCall, bool> fails) : IExpiringTables
{
    public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
        new Table<T>(inner.Open(keyPrefix, json, keepAfterExpiry), keyPrefix, fails);

    public IExpiryIndex OpenIndex(string key) => new Index(inner.OpenIndex(key), key, fails);

    private static Task<TResult> Call<TResult>(Func<StoreCall, bool> fails, StoreCall call, Func<Task<TResult>> next) =>
        fails(call) ? Task.FromException<TResult>(new RedisTimeoutException(CommandFlags.None, $"test: {call.Name} is down", CommandStatus.Unknown)) : next();

    private sealed class Table<T>(IExpiringTable<T> table, string prefix, Func<StoreCall, bool> fails) : IExpiringTable<T> where T : class
    {
        public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) =>
            Call(fails, new(prefix, false, false), () => table.GetAsync(key, cancellationToken));

        public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null) =>
            Call(fails, new(prefix, false, true), () => table.ChangeAsync(key, decide, cancellationToken, seen));

        public Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken) =>
            Call(fails, new(prefix, false, false), () => table.PeekAsync(key, cancellationToken));

        public Task PurgeAsync(string key, CancellationToken cancellationToken) =>
            Call(fails, new(prefix, false, true), async () =>
            {
                await table.PurgeAsync(key, cancellationToken);
                return true;
            });
    }

    private sealed class Index(IExpiryIndex index, string key, Func<StoreCall, bool> fails) : IExpiryIndex
    {
        public Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
            Call(fails, new(key, true, true), async () =>
            {
                await index.ScheduleAsync(member, at, cancellationToken);
                return true;
            });

        public Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
            Call(fails, new(key, true, false), () => index.DueAsync(now, limit, cancellationToken));

        public Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
            Call(fails, new(key, true, true), () => index.RemoveAsync(member, at, cancellationToken));

        public Task<long> CountAsync(CancellationToken cancellationToken) =>
            Call(fails, new(key, true, false), () => index.CountAsync(cancellationToken));
    }
}
