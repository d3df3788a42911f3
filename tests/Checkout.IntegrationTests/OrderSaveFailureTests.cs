using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using Microsoft.Extensions.DependencyInjection;
using PaymentGateway.Contracts;

namespace CheckoutService.IntegrationTests;

/// <summary>A charge whose order cannot be saved is voided, and the shopper can simply retry.</summary>
public sealed class OrderSaveFailureTests : IAsyncDisposable
{
    private readonly FlakyOrderStore _orders = new();
    private readonly CheckoutApp _app;

    public OrderSaveFailureTests() => _app = new CheckoutApp
    {
        ReplaceServices = services => services.AddSingleton<IOrderStore>(sp =>
        {
            _orders.Inner = ActivatorUtilities.CreateInstance<SqlOrderStore>(sp);
            return _orders;
        }),
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Checkout_OrderCannotBeSaved_VoidsTheChargeAndLeavesTheCartOpen()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        _orders.FailNextAdd = true;

        var failed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.Status);
        Assert.Equal("INTERNAL_ERROR", failed.Error);
        var voided = Assert.Single(_app.Gateway.Ledger(cartId).Intents);
        Assert.Equal(IntentStatus.Refunded, voided.Status);

        var retried = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_other"));

        Assert.Equal(HttpStatusCode.Created, retried.Status);
        Assert.Single(_app.Gateway.Ledger(cartId).Intents, i => i.Status == IntentStatus.Succeeded);
    }

    private sealed class FlakyOrderStore : OrderStoreDecorator
    {
        public bool FailNextAdd { get; set; }

        public override Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken)
        {
            if (FailNextAdd)
            {
                FailNextAdd = false;
                throw new InvalidOperationException("database is down");
            }
            return base.TryAddAsync(order, cancellationToken);
        }
    }
}
