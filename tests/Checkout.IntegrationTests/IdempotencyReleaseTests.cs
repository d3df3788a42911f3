using System.Text.Json.Serialization.Metadata;
using CheckoutService.Idempotency;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// A request that claimed its Idempotency-Key and then met a store outage (a Redis failover) answers
/// 503 without waiting, and gives the key back once the store returns, so the retry that answer
/// invites runs instead of being told for two minutes that the key is in use.
/// </summary>
public sealed class IdempotencyReleaseTests
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());

    [Fact]
    public async Task AKeyWhoseReleaseFailed_IsGivenBackWhenTheStoreReturns()
    {
        var store = new Flaky(new InMemoryTables(_clock, 1_000));
        var calls = 0;
        var middleware = new IdempotencyMiddleware(context => new IdempotencyGate(inner =>
        {
            calls++;
            store.Down = calls == 1; // the first attempt loses the store mid-request
            inner.Response.StatusCode = calls == 1 ? 503 : 201;
            return Task.CompletedTask;
        }).InvokeAsync(context), store, _clock, NullLogger<IdempotencyMiddleware>.Instance);

        var first = await SendAsync(middleware);
        store.Down = false;
        var tooSoon = await SendAsync(middleware);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var retried = 0;
        var ranAgain = await Eventually.TrueAsync(async () => (retried = await SendAsync(middleware)) == 201, TimeSpan.FromSeconds(10));

        Assert.Equal(503, first);
        Assert.Equal(409, tooSoon); // still held: the release waits for its first retry, a second later
        Assert.True(ranAgain, $"the retry still answered {retried}");
    }

    private static async Task<int> SendAsync(IdempotencyMiddleware middleware)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/v2/checkout/guest";
        context.Request.Headers[IdempotencyMiddleware.Header] = "retry-after-a-failover";
        context.Request.Body = new MemoryStream("{}"u8.ToArray());
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new IdempotentAttribute()), "checkout"));
        await middleware.InvokeAsync(context);
        return context.Response.StatusCode;
    }

    /// <summary>Tables that throw while <see cref="Down"/>, as Redis does while a primary fails over.</summary>
    private sealed class Flaky(IExpiringTables inner) : IExpiringTables
    {
        public volatile bool Down;

        public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
            new Table<T>(inner.Open(keyPrefix, json, keepAfterExpiry), this);

        public IExpiryIndex OpenIndex(string key) => inner.OpenIndex(key);

        private sealed class Table<T>(IExpiringTable<T> table, Flaky store) : IExpiringTable<T> where T : class
        {
            public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) => Up(() => table.GetAsync(key, cancellationToken));

            public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null) =>
                Up(() => table.ChangeAsync(key, decide, cancellationToken, seen));

            public Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken) => Up(() => table.PeekAsync(key, cancellationToken));

            public Task PurgeAsync(string key, CancellationToken cancellationToken) => Up(() => table.PurgeAsync(key, cancellationToken));

            private Task<TResult> Up<TResult>(Func<Task<TResult>> call) => store.Down ? throw new TimeoutException("store down") : call();

            private Task Up(Func<Task> call) => store.Down ? throw new TimeoutException("store down") : call();
        }
    }
}
