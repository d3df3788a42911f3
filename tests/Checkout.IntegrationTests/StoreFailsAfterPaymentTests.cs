using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;

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
            services.AddSingleton<IExpiringTables>(sp => new FaultyTables(sp.GetRequiredService<InMemoryTables>(), _ => _store.Failing));
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
}
