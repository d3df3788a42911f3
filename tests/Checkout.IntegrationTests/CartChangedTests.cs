using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests;

/// <summary>The shopper pays the total they reviewed: a cart changed since then is a 409, not a charge (docs/decisions/0013).</summary>
public class CartChangedTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    [Fact]
    public async Task Checkout_CartRaisedAfterReview_Is409CartChangedWithTheNewCart_AndNothingIsCharged()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        // Anyone holding the cart id raises it, without a token, after the shopper reviewed 14.99.
        Assert.Equal(HttpStatusCode.OK, (await RaiseAsync(shopper, cartId)).Status);

        var reply = await shopper.CheckoutAsync(WithExpectedTotal(ShopperClient.CheckoutBody(cartId), 14.99m));

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Equal("CART_CHANGED", reply.Error);
        Assert.NotNull((string?)reply.Body!["message"]);
        Assert.NotNull((string?)reply.Body["request_id"]);
        Assert.Equal("1484.01", reply.Body["total"]!.ToJsonString()); // 99 x 14.99
        var item = Assert.Single(reply.Body["items"]!.AsArray());
        Assert.Equal("SKU-MUG-12OZ", (string)item!["sku"]!);
        Assert.Equal(99, (int)item["quantity"]!);
        Assert.Equal("\"2\"", reply.Header("ETag"));
        Assert.Empty(app.Gateway.Ledger(cartId).Intents);
        Assert.Null(await app.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None));
    }

    [Fact]
    public async Task Checkout_WithTheSessionsSavedCard_CartRaisedAfterReview_Is409_AndTheSessionStillPays()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        Assert.Equal(HttpStatusCode.OK, (await shopper.SaveShippingAddressAsync(sessionId, token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await shopper.SavePaymentMethodAsync(sessionId, "pm_stripe_4f9c2a1b", token)).Status);
        await RaiseAsync(shopper, cartId);
        JsonObject Body(decimal total) => new() { ["cart_id"] = cartId, ["email"] = "user4827@example.com", ["expected_total"] = total };

        var changed = await shopper.CheckoutAsync(Body(14.99m), token);
        var paid = await shopper.CheckoutAsync(Body(1484.01m), token);

        Assert.Equal("CART_CHANGED", changed.Error);
        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.Equal(sessionId, (string)paid.Body!["session_id"]!);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_StaleIfMatch_Is409CartChanged_AndTheCurrentETagPays()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        await RaiseAsync(shopper, cartId);

        var stale = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.TryAddWithoutValidation("If-Match", "\"1\""));
        var current = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.TryAddWithoutValidation("If-Match", stale.Header("ETag")));

        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Equal("CART_CHANGED", stale.Error);
        Assert.Equal(HttpStatusCode.Created, current.Status);
        Assert.Equal("1484.01", current.Body!["total_charged"]!.ToJsonString());
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_CartChanged_DoesNotSpendTheIdempotencyKey_SoTheRightTotalPaysWithIt()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        await RaiseAsync(shopper, cartId);
        var key = Guid.NewGuid().ToString();
        void WithKey(HttpRequestMessage r) => r.Headers.Add("Idempotency-Key", key);

        var changed = await shopper.CheckoutAsync(WithExpectedTotal(ShopperClient.CheckoutBody(cartId), 14.99m), configure: WithKey);
        var paid = await shopper.CheckoutAsync(WithExpectedTotal(ShopperClient.CheckoutBody(cartId), 1484.01m), configure: WithKey);

        Assert.Equal("CART_CHANGED", changed.Error);
        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.Null(paid.Header("Idempotent-Replayed"));
        Assert.Equal("1484.01", paid.Body!["total_charged"]!.ToJsonString());
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_ExpectedTotalThatMatches_Pays()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));

        var reply = await shopper.CheckoutAsync(WithExpectedTotal(ShopperClient.CheckoutBody(cartId), 29.98m),
            configure: r => r.Headers.TryAddWithoutValidation("If-Match", "\"1\""));

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("29.98", reply.Body!["total_charged"]!.ToJsonString());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("14.999")]
    public async Task Checkout_ExpectedTotalThatIsNoAmount_Is422InvalidFormat_AndNothingIsCharged(string total)
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var body = ShopperClient.CheckoutBody(cartId);
        body["expected_total"] = JsonNode.Parse(total);

        var reply = await shopper.CheckoutAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Contains(("expected_total", "INVALID_FORMAT"), reply.FieldErrors);
        Assert.Empty(app.Gateway.Ledger(cartId).Intents);
    }

    [Fact]
    public async Task Checkout_ExpectedTotalAsAString_Is422InvalidTypeNotA5xx()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var body = ShopperClient.CheckoutBody(cartId);
        body["expected_total"] = "14.99";

        var reply = await shopper.CheckoutAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Contains(("expected_total", "INVALID_TYPE"), reply.FieldErrors);
    }

    /// <summary>Sets the mug line to 99 (the cart was 1 mug, 14.99; now 1484.01), as the probe did with a PUT and no token.</summary>
    private static Task<Reply> RaiseAsync(ShopperClient shopper, string cartId) =>
        shopper.SendAsync(HttpMethod.Put, $"/api/v2/carts/{cartId}/items/SKU-MUG-12OZ", new JsonObject { ["quantity"] = 99 });

    private static JsonObject WithExpectedTotal(JsonObject body, decimal total)
    {
        body["expected_total"] = total;
        return body;
    }
}
