using System.Net;
using System.Text.Json.Serialization.Metadata;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using CommandStatus = StackExchange.Redis.CommandStatus;
using RedisTimeoutException = StackExchange.Redis.RedisTimeoutException;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The checkout claims the cart and starts the session paying at the same moment; when the cart's
/// claim fails in the store (its shard failing over), the shopper gets a 503 and the session is
/// theirs again to edit, not stuck paying for a checkout that never ran.
/// </summary>
public sealed class ClaimFailsTests : IAsyncDisposable
{
    private bool _cartWritesFail;
    private readonly CheckoutApp _app;

    public ClaimFailsTests() => _app = new CheckoutApp
    {
        ReplaceServices = services => services.AddSingleton<IExpiringTables>(sp =>
            new CartWritesFail(sp.GetRequiredService<InMemoryTables>(), () => _cartWritesFail)),
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Checkout_WhoseCartClaimFailsInTheStore_Is503_AndLeavesTheSessionActive()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        _cartWritesFail = true;

        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token);
        var session = await shopper.GetSessionAsync(sessionId, token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Equal("active", (string?)session.Body!["status"]);
        Assert.Empty(_app.Gateway.Ledger(cartId).Intents);
    }

    /// <summary>Tables whose cart writes time out while <c>failing</c> says so; everything else works.</summary>
    private sealed class CartWritesFail(IExpiringTables inner, Func<bool> failing) : IExpiringTables
    {
        public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
            keyPrefix == "cart:" ? new Table<T>(inner.Open(keyPrefix, json, keepAfterExpiry), failing) : inner.Open(keyPrefix, json, keepAfterExpiry);

        public IExpiryIndex OpenIndex(string key) => inner.OpenIndex(key);

        private sealed class Table<T>(IExpiringTable<T> table, Func<bool> failing) : IExpiringTable<T> where T : class
        {
            public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) => table.GetAsync(key, cancellationToken);

            public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null) =>
                failing()
                    ? Task.FromException<TResult>(new RedisTimeoutException(StackExchange.Redis.CommandFlags.None, "cart shard failing over", CommandStatus.Unknown))
                    : table.ChangeAsync(key, decide, cancellationToken, seen);

            public Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken) => table.PeekAsync(key, cancellationToken);

            public Task PurgeAsync(string key, CancellationToken cancellationToken) => table.PurgeAsync(key, cancellationToken);
        }
    }
}
