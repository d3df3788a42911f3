using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

public class SessionTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    [Fact]
    public async Task StartSession_ForACartThatDoesNotExist_Is404AndCreatesNothing()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest/session",
            new JsonObject { ["cart_id"] = "cart_nosuchcart", ["email"] = "user4827@example.com" });
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("CART_NOT_FOUND", reply.Error);
    }

    [Fact]
    public async Task StartSession_ReturnsIdTokenAndTtl()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest/session",
            new JsonObject { ["cart_id"] = cartId, ["email"] = "user4827@example.com" });

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Matches("^guest:sess:[0-9a-f-]{36}$", (string)reply.Body!["session_id"]!);
        Assert.StartsWith("gst_", (string)reply.Body["session_token"]!, StringComparison.Ordinal);
        Assert.Equal(900, (int)reply.Body["ttl_seconds"]!);
        Assert.NotNull((string?)reply.Body["expires_at"]);
    }

    [Fact]
    public async Task Session_TheIdAloneGrantsNothing_AndEveryRefusalLooksTheSame()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, _) = await shopper.StartSessionAsync(cartId);
        var (otherSessionId, otherToken) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-CAP-NVY", 1)));

        var refusals = new[]
        {
            await shopper.GetSessionAsync(sessionId, null),
            await shopper.GetSessionAsync(sessionId, "gst_forged"),
            await shopper.GetSessionAsync(sessionId, otherToken),
            await shopper.GetSessionAsync("guest:sess:" + Guid.NewGuid(), otherToken),
            await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/payment-method",
                new JsonObject { ["payment_method_id"] = "pm_attacker" }, otherToken),
        };

        Assert.All(refusals, r =>
        {
            Assert.Equal(HttpStatusCode.NotFound, r.Status);
            Assert.Equal("SESSION_EXPIRED", r.Error);
        });
        Assert.NotEqual(sessionId, otherSessionId);
    }

    [Fact]
    public async Task SaveShippingAddress_ValidatesOnItsOwn()
    {
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        var address = ShopperClient.Springfield.DeepClone();
        address["zip"] = "6270";
        address["country"] = "MX";

        var reply = await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", address, token);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal([("shipping_address.zip", "INVALID_FORMAT"), ("shipping_address.country", "UNSUPPORTED_COUNTRY")], reply.FieldErrors);
    }

    [Fact]
    public async Task SavePaymentMethod_Missing_Is422Required()
    {
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        var reply = await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/payment-method", new JsonObject(), token);
        Assert.Equal([("payment_method_id", "REQUIRED")], reply.FieldErrors);
    }

    [Fact]
    public async Task Checkout_WithAddressAndCardSavedInTheSession_NeedsOnlyCartAndEmail()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-BACKPACK-20L", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId, "shopper.test@example.com");
        await shopper.SaveShippingAddressAsync(sessionId, token);
        await shopper.SavePaymentMethodAsync(sessionId, "pm_stripe_8c7b6a5d", token);

        var reply = await shopper.CheckoutAsync(new JsonObject { ["cart_id"] = cartId, ["email"] = "shopper.test@example.com" }, token);

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal(sessionId, (string)reply.Body!["session_id"]!);
        Assert.Equal("129.50", reply.Body["total_charged"]!.ToJsonString());
        var session = await shopper.GetSessionAsync(sessionId, token);
        Assert.Equal("completed", (string)session.Body!["status"]!);
    }

    [Fact]
    public async Task Checkout_CartIdAndEmailWithoutTheToken_NeverUnlockTheSessionsSavedCardOrAddress()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-HEADPHONES-BT", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId, "bob@example.com");
        await shopper.SaveShippingAddressAsync(sessionId, token);
        await shopper.SavePaymentMethodAsync(sessionId, "pm_stripe_bobs_card", token);
        var attackersAddress = new JsonObject { ["line1"] = "1 Drop Point", ["city"] = "Austin", ["state"] = "TX", ["zip"] = "73301", ["country"] = "US" };

        var withAddress = await shopper.CheckoutAsync(new JsonObject { ["cart_id"] = cartId, ["email"] = "BOB@EXAMPLE.COM", ["shipping_address"] = attackersAddress });
        var bare = await shopper.CheckoutAsync(new JsonObject { ["cart_id"] = cartId, ["email"] = "bob@example.com" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, withAddress.Status);
        Assert.Equal([("payment_method_id", "REQUIRED")], withAddress.FieldErrors);
        Assert.Equal([("shipping_address", "REQUIRED")], bare.FieldErrors);
        Assert.Empty(app.Gateway.Ledger(cartId).Intents);
        Assert.Equal("active", (string?)(await shopper.GetSessionAsync(sessionId, token)).Body!["status"]);
    }

    [Theory]
    [InlineData("gst_forged")]
    [InlineData("gst_00000000000000000000000000000000_AAAA")]
    [InlineData("another session's")]
    public async Task Checkout_WithAWrongToken_Is404SessionExpired_AndChargesNothing(string token)
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-HEADPHONES-BT", 1));
        var (sessionId, bobsToken) = await shopper.StartSessionAsync(cartId, "bob@example.com");
        await shopper.SavePaymentMethodAsync(sessionId, "pm_stripe_bobs_card", bobsToken);
        if (token == "another session's")
        {
            (_, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)), "bob@example.com");
        }

        var reply = await shopper.CheckoutAsync(new JsonObject
        {
            ["cart_id"] = cartId,
            ["email"] = "bob@example.com",
            ["shipping_address"] = ShopperClient.Springfield.DeepClone(),
        }, token);

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("SESSION_EXPIRED", reply.Error);
        Assert.Empty(app.Gateway.Ledger(cartId).Intents);
    }

    [Fact]
    public async Task Checkout_SessionHoldsNothing_BothSectionsAreRequired()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        await shopper.StartSessionAsync(cartId);

        var noAddress = await shopper.CheckoutAsync(new JsonObject { ["cart_id"] = cartId, ["email"] = "user4827@example.com" });
        var body = new JsonObject { ["cart_id"] = cartId, ["email"] = "user4827@example.com", ["shipping_address"] = ShopperClient.Springfield.DeepClone() };
        var noCard = await shopper.CheckoutAsync(body);

        Assert.Equal([("shipping_address", "REQUIRED")], noAddress.FieldErrors);
        Assert.Equal([("payment_method_id", "REQUIRED")], noCard.FieldErrors);
    }

    [Fact]
    public async Task Session_TenConcurrentWritesFromTwoTabs_LoseNothing()
    {
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));

        var writes = Enumerable.Range(0, 10).Select(i => i % 2 == 0
            ? shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", ShopperClient.Springfield.DeepClone(), token)
            : shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/payment-method",
                new JsonObject { ["payment_method_id"] = $"pm_tab_{i}" }, token));
        var replies = await Task.WhenAll(writes);

        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{r.Status}: {r.Body}"));
        var session = (await shopper.GetSessionAsync(sessionId, token)).Body!;
        Assert.True((bool)session["shipping_address_complete"]!);
        Assert.True((bool)session["payment_method_attached"]!);
    }
}

public class SessionExpiryTests(CheckoutAppWithClock app) : IClassFixture<CheckoutAppWithClock>
{
    [Fact]
    public async Task Session_ExpiresAfterItsTtl_AndEveryWriteRenewsIt()
    {
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));

        app.Time.Advance(TimeSpan.FromSeconds(899));
        var beforeRenewal = await shopper.GetSessionAsync(sessionId, token);
        Assert.Equal(1, (int)beforeRenewal.Body!["ttl_remaining_seconds"]!);

        var saved = await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", ShopperClient.Springfield.DeepClone(), token);
        Assert.Equal(HttpStatusCode.OK, saved.Status);
        Assert.Equal(900, (int)saved.Body!["ttl_remaining_seconds"]!);

        app.Time.Advance(TimeSpan.FromSeconds(899));
        var stillAlive = await shopper.GetSessionAsync(sessionId, token);
        Assert.Equal(HttpStatusCode.OK, stillAlive.Status);
        Assert.Equal(1, (int)stillAlive.Body!["ttl_remaining_seconds"]!);

        app.Time.Advance(TimeSpan.FromSeconds(1));
        var expired = await shopper.GetSessionAsync(sessionId, token);
        Assert.Equal(HttpStatusCode.NotFound, expired.Status);
        Assert.Equal("SESSION_EXPIRED", expired.Error);
    }

    [Fact]
    public async Task Session_ReadsDoNotRenewIt()
    {
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        for (var i = 0; i < 3; i++)
        {
            app.Time.Advance(TimeSpan.FromSeconds(300));
            await shopper.GetSessionAsync(sessionId, token);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await shopper.GetSessionAsync(sessionId, token)).Status);
    }
}
