using System.Net;
using System.Text.Json.Serialization.Metadata;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using CommandStatus = StackExchange.Redis.CommandStatus;
using RedisTimeoutException = StackExchange.Redis.RedisTimeoutException;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The order table is the truth: once the order row is committed the shopper gets the 201, even
/// if the shared store fails before the cart and the session are told, and later reads settle
/// them from the order.
/// </summary>
public sealed class StoreFailsAfterPaymentTests : IAsyncDisposable
{
    private readonly StoreSwitch _store = new();
    private readonly CheckoutApp _app;

    public StoreFailsAfterPaymentTests() => _app = new CheckoutApp
    {
        ReplaceServices = services =>
        {
            services.AddSingleton<IExpiringTables>(sp => new SwitchedTables(sp.GetRequiredService<InMemoryTables>(), _store));
            services.AddSingleton<IOrderStore>(sp => new OutageAfterSave(_store) { Inner = ActivatorUtilities.CreateInstance<SqlOrderStore>(sp) });
        },
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Checkout_StoreFailsRightAfterTheOrderIsCommitted_StillAnswers201_AndReadsSettleFromTheOrder()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        _store.FailAfterNextOrder = true;

        var paid = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), token,
            r => r.Headers.Add("Idempotency-Key", "idk_" + Guid.NewGuid().ToString("N")));

        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.True(_store.Failing, "the store was failing when the answer was written");
        var order = await _app.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None);
        Assert.Equal((string?)paid.Body!["order_id"], order!.OrderId);

        _store.Failing = false;
        var cart = await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null);
        var session = await shopper.GetSessionAsync(sessionId, token);
        var again = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_another_card"));

        Assert.Equal("checked_out", (string?)cart.Body!["status"]);
        Assert.Equal("completed", (string?)session.Body!["status"]);
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("CART_CHECKED_OUT", again.Error);
        Assert.Equal(1, _app.Gateway.Ledger(cartId).Charges);
    }

    private sealed class StoreSwitch
    {
        public volatile bool FailAfterNextOrder;
        public volatile bool Failing;

        public void ThrowIfFailing()
        {
            if (Failing)
            {
                throw new RedisTimeoutException(StackExchange.Redis.CommandFlags.None, "test: the shared store is down", CommandStatus.Unknown);
            }
        }
    }

    private sealed class OutageAfterSave(StoreSwitch store) : OrderStoreDecorator
    {
        public override async Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken)
        {
            var added = await base.TryAddAsync(order, cancellationToken);
            store.Failing = added && store.FailAfterNextOrder;
            return added;
        }
    }

    private sealed class SwitchedTables(IExpiringTables inner, StoreSwitch store) : IExpiringTables
    {
        public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
            new Table<T>(inner.Open(keyPrefix, json, keepAfterExpiry), store);

        public IExpiryIndex OpenIndex(string key) => new Index(inner.OpenIndex(key), store);

        private sealed class Index(IExpiryIndex inner, StoreSwitch store) : IExpiryIndex
        {
            public Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.ScheduleAsync(member, at, cancellationToken);
            }

            public Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.DueAsync(now, limit, cancellationToken);
            }

            public Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.RemoveAsync(member, at, cancellationToken);
            }

            public Task<long> CountAsync(CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.CountAsync(cancellationToken);
            }
        }

        private sealed class Table<T>(IExpiringTable<T> inner, StoreSwitch store) : IExpiringTable<T> where T : class
        {
            public Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.GetAsync(key, cancellationToken);
            }

            public Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null)
            {
                store.ThrowIfFailing();
                return inner.ChangeAsync(key, decide, cancellationToken, seen);
            }

            public Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.PeekAsync(key, cancellationToken);
            }

            public Task PurgeAsync(string key, CancellationToken cancellationToken)
            {
                store.ThrowIfFailing();
                return inner.PurgeAsync(key, cancellationToken);
            }
        }
    }
}
