using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>The API's reference exchanges, replayed: same status codes, fields and error codes.</summary>
public class LogTraceTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    [Fact]
    public async Task Checkout_TheLogsFirstTrace_Is201WithEveryField()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));

        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: r =>
        {
            r.Headers.Add("X-Request-ID", "req_7f3a9bc2e1d4");
            r.Headers.Add("Idempotency-Key", "idk_8a2f1bc9_001");
        });

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("req_7f3a9bc2e1d4", reply.Header("X-Request-ID"));
        Assert.Matches("^[0-9a-f]{32}$", reply.Header("X-Trace-ID"));
        var body = reply.Body!.AsObject();
        Assert.Equal(
            ["order_id", "confirmation_token", "estimated_delivery", "total_charged", "currency", "checkout_flow", "session_id"],
            body.Select(p => p.Key).ToArray());
        Assert.Matches("^ord_[a-z0-9]{12}$", (string)body["order_id"]!);
        Assert.Matches("^cnf_[a-z0-9]{26}$", (string)body["confirmation_token"]!);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T00:00:00Z$", (string)body["estimated_delivery"]!);
        Assert.Equal("47.99", body["total_charged"]!.ToJsonString());
        Assert.Equal("USD", (string)body["currency"]!);
        Assert.Equal("guest_v2", (string)body["checkout_flow"]!);
        Assert.Matches("^guest:sess:[0-9a-f-]{36}$", (string)body["session_id"]!);
    }

    [Fact]
    public async Task Checkout_TheLogsInvalidEmailTrace_Is422WithExactlyTheTwoErrors()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest",
            new JsonObject { ["cart_id"] = "cart_5e7f9a1b3c2d", ["email"] = "invalid-email-format" },
            configure: r => r.Headers.Add("X-Request-ID", "req_2d4e6f8a0b1c"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal(
            JsonNode.Parse("""
            {
              "errors": [
                { "field": "email", "code": "INVALID_FORMAT", "message": "Email address is not valid", "constraint": "RFC 5322 compliant email required" },
                { "field": "shipping_address", "code": "REQUIRED", "message": "Shipping address is required", "constraint": "Object with line1, city, state, zip, country required" }
              ],
              "request_id": "req_2d4e6f8a0b1c"
            }
            """)!.ToJsonString(),
            reply.Body!.ToJsonString());
    }

    [Fact]
    public async Task Checkout_TheLogsExpiredCartTrace_Is404CartNotFound()
    {
        using var shopper = app.Shopper();
        var body = ShopperClient.CheckoutBody("cart_expired_session_4a", "pm_stripe_2f3e4d5c", "mobile.user@example.com");

        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body,
            configure: r => r.Headers.Add("X-Request-ID", "req_9c1d3e5f7a8b"));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal(
            """{"error":"CART_NOT_FOUND","message":"Cart cart_expired_session_4a does not exist or has expired","request_id":"req_9c1d3e5f7a8b"}""",
            reply.Body!.ToJsonString());
    }

    [Fact]
    public async Task GetSession_TheLogsSessionTrace_Is200WithEveryField()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", ShopperClient.Springfield.DeepClone(), token);
        await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/payment-method",
            new JsonObject { ["payment_method_id"] = "pm_stripe_4f9c2a1b" }, token);

        var reply = await shopper.GetSessionAsync(sessionId, token);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var body = reply.Body!.AsObject();
        Assert.Equal(
            ["session_id", "cart_id", "email", "ttl_remaining_seconds", "created_at", "last_activity", "status", "shipping_address_complete", "payment_method_attached"],
            body.Select(p => p.Key).ToArray());
        Assert.Equal(sessionId, (string)body["session_id"]!);
        Assert.Equal(cartId, (string)body["cart_id"]!);
        Assert.Equal("user4827@example.com", (string)body["email"]!);
        Assert.InRange((int)body["ttl_remaining_seconds"]!, 890, 900);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", (string)body["created_at"]!);
        Assert.Equal("active", (string)body["status"]!);
        Assert.True((bool)body["shipping_address_complete"]!);
        Assert.True((bool)body["payment_method_attached"]!);
    }

    [Fact]
    public async Task GetSession_TheLogsExpiredSessionTrace_Is404SessionExpired()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/api/v2/checkout/guest/session/guest:sess:expired-session-uuid", null,
            configure: r => r.Headers.Add("X-Request-ID", "req_5f7a9b1c3d4e"));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal(
            """{"error":"SESSION_EXPIRED","message":"Guest session has expired. Please start a new checkout.","request_id":"req_5f7a9b1c3d4e"}""",
            reply.Body!.ToJsonString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("has spaces in it")]
    [InlineData("<script>alert(1)</script>")]
    public async Task Response_WithoutASaneRequestId_GetsAGeneratedOne(string? sent)
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/api/v2/products", null, configure: r =>
        {
            if (sent is not null)
            {
                r.Headers.TryAddWithoutValidation("X-Request-ID", sent);
            }
        });
        Assert.Matches("^req_[0-9a-f]{12}$", reply.Header("X-Request-ID"));
        Assert.NotNull(reply.Header("X-Trace-ID"));
    }
}
