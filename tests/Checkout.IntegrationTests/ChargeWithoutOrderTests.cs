using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Checkout;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using CheckoutService.Payments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Contracts;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// No charge without an order, on each database: a charge whose order could not be saved and
/// whose void failed is found by the journal sweep after the checkout deadline and voided.
/// </summary>
public abstract class ChargeWithoutOrderContract : DatabaseContract
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private readonly FailingOrderStore _orders = new();

    protected override CheckoutApp Configure(CheckoutApp app) => new()
    {
        Clock = _clock,
        ReplaceServices = services => services.AddSingleton<IOrderStore>(sp =>
        {
            _orders.Inner = ActivatorUtilities.CreateInstance<SqlOrderStore>(sp);
            return _orders;
        }),
    };

    [Fact]
    public async Task AChargeWhoseOrderWasLost_IsVoidedBySweep_AfterTheDeadline_LeavingOneLiveCharge()
    {
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        _orders.FailNextAdd = true;
        App.Gateway.VoidsFail = true;

        // The clock moves while it runs, so the failing void's retries back off and give up.
        var lost = await _clock.WhileAdvancingAsync(shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId)));
        Assert.Equal(HttpStatusCode.InternalServerError, lost.Status); // charged, no order, and the void failed too
        App.Gateway.VoidsFail = false;
        Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Put, $"/api/v2/carts/{cartId}/items/SKU-MUG-12OZ", new JsonObject { ["quantity"] = 2 })).Status);
        var placed = await _clock.WhileAdvancingAsync(shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId)));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        Assert.Equal(2, App.Gateway.Ledger(cartId).Intents.Count(i => i.Status == IntentStatus.Succeeded));

        var sweep = App.Services.GetRequiredService<UnorderedChargeSweep>();
        Assert.True(await Eventually.TrueAsync(() => sweep.SweepOnceAsync(CancellationToken.None), TimeSpan.FromSeconds(10)));
        Assert.Equal(2, App.Gateway.Ledger(cartId).Intents.Count(i => i.Status == IntentStatus.Succeeded)); // within the deadline: nothing judged

        _clock.Advance(TimeSpan.FromMilliseconds(45_000) + UnorderedChargeSweep.Margin + TimeSpan.FromSeconds(1));
        Assert.True(await Eventually.TrueAsync(() => sweep.SweepOnceAsync(CancellationToken.None), TimeSpan.FromSeconds(10)));

        var ledger = App.Gateway.Ledger(cartId);
        var live = Assert.Single(ledger.Intents, i => i.Status == IntentStatus.Succeeded);
        Assert.Single(ledger.Intents, i => i.Status == IntentStatus.Refunded);
        var order = await App.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None);
        Assert.Equal(live.IntentId, order!.PaymentIntentId);
        var journal = App.Services.GetRequiredService<PaymentJournal>();
        Assert.Equal("refunded", await journal.OutcomeAsync(PlaceOrder.GatewayKey(cartId, 1, "pm_stripe_4f9c2a1b"), CancellationToken.None));
        Assert.Equal("ordered", await journal.OutcomeAsync(PlaceOrder.GatewayKey(cartId, 2, "pm_stripe_4f9c2a1b"), CancellationToken.None));
    }

    private sealed class FailingOrderStore : OrderStoreDecorator
    {
        public volatile bool FailNextAdd;

        public override Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken)
        {
            if (FailNextAdd)
            {
                FailNextAdd = false;
                throw new InvalidOperationException("test: the database refused the order");
            }
            return base.TryAddAsync(order, cancellationToken);
        }
    }
}

public sealed class SqliteChargeWithoutOrderTests : ChargeWithoutOrderContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresChargeWithoutOrderTests(PostgresServer postgres) : ChargeWithoutOrderContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}
