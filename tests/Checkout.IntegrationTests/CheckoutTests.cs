using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests;

public class CheckoutTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    [Fact]
    public async Task Checkout_TenConcurrentAttemptsOnOneCart_GiveExactlyOneOrderAndOneCharge()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-HEADPHONES-BT", 1));

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, $"pm_stripe_tab{i}"))));

        var created = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r != created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Contains(r.Error, new[] { "CHECKOUT_IN_PROGRESS", "CART_CHECKED_OUT" });
        });
        var order = await app.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None);
        Assert.Equal((string)created.Body!["order_id"]!, order!.OrderId);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_TheSameCartAgainAfterItsOrder_Is409CartCheckedOut()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))).Status);

        var again = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));

        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("CART_CHECKED_OUT", again.Error);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_DeclinedCard_Is402WithNoOrder_AndAnotherCardThenPays()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-LAMP-DESK", 1));

        var declined = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_4000_declined"));

        Assert.Equal(HttpStatusCode.PaymentRequired, declined.Status);
        Assert.Equal("PAYMENT_DECLINED", declined.Error);
        Assert.NotNull((string?)declined.Body!["request_id"]);
        Assert.Null(await app.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None));
        Assert.Equal(0, app.Gateway.Ledger(cartId).Charges);

        var paid = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"));

        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_TotalIsTheCartSubtotalToTheCent_AndTheOrderIsStored()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-SOCKS-3PK", 3), ("SKU-PEN-BLK-2PK", 1), ("SKU-PLANT-POT-M", 2));

        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, email: "Repeat.Buyer@Example.com"));

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("121.62", reply.Body!["total_charged"]!.ToJsonString()); // 3 x 19.99 + 6.75 + 2 x 27.45
        var order = await app.Services.GetRequiredService<IOrderStore>().GetAsync((string)reply.Body["order_id"]!, CancellationToken.None);
        Assert.NotNull(order);
        Assert.Equal(12162, order.Total.Cents);
        Assert.Equal(3, order.Lines.Count);
        Assert.Equal("paid", order.Status);
        Assert.Equal("IL", order.ShippingAddress.State);
        Assert.NotEqual((string)reply.Body["confirmation_token"]!, order.ConfirmationTokenHash);
        Assert.Equal(CheckoutService.Edge.Sha256.Hex((string)reply.Body["confirmation_token"]!), order.ConfirmationTokenHash);
        var intent = Assert.Single(app.Gateway.Ledger(cartId).Intents);
        Assert.Equal(121.62m, intent.Amount);
        Assert.Equal(intent.IntentId, order.PaymentIntentId);
    }

    [Fact]
    public async Task Checkout_EmptyCart_Is422AndChargesNothing()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync();
        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal("CART_EMPTY", reply.Error);
        Assert.Empty(app.Gateway.Ledger(cartId).Intents);
    }

    [Fact]
    public async Task Checkout_GatewayDown_Is502WithRetryAfter_AndTheCartStaysOpen()
    {
        // Its own host: the failures it makes must not open the breaker under the other tests' checkouts.
        await using var own = new CheckoutApp();
        using var shopper = own.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_1a2b_down"));

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("2", reply.Header("Retry-After"));
        Assert.Equal("PAYMENT_GATEWAY_UNAVAILABLE", reply.Error);
        Assert.Equal(2, (int)reply.Body!["retry_after_seconds"]!);
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))).Status);
    }

    [Fact]
    public async Task Health_IsUpWithItsStores()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/healthz", null);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("up", (string)reply.Body!["checks"]!["database"]!);
    }
}
