using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

public class IdempotencyTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    private static Action<HttpRequestMessage> WithKey(string key) => r => r.Headers.TryAddWithoutValidation("Idempotency-Key", key);

    private static string NewKey() => "idk_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Checkout_SameKeyAndBodyTwice_ReplaysTheFirstOrder()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var key = NewKey();

        var first = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: WithKey(key));
        var second = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: WithKey(key));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Null(first.Header("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal("true", second.Header("Idempotent-Replayed"));
        Assert.Equal(first.Body!.ToJsonString(), second.Body!.ToJsonString());
        Assert.Equal(first.Response.Headers.Location, second.Response.Headers.Location);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Theory]
    [InlineData("/api/v2/checkout/guest/")]
    [InlineData("/API/v2/Checkout/Guest")]
    public async Task Checkout_SameKeyAndBodyAtAnotherSpellingOfThePath_ReplaysTheFirstOrder(string path)
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var key = NewKey();

        var first = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: WithKey(key));
        var second = await shopper.SendAsync(HttpMethod.Post, path, ShopperClient.CheckoutBody(cartId), configure: WithKey(key));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal("true", second.Header("Idempotent-Replayed"));
        Assert.Equal((string?)first.Body!["order_id"], (string?)second.Body!["order_id"]);
        Assert.Equal(1, app.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Checkout_SameKeyWithAnotherBody_Is422KeyReused()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var key = NewKey();
        await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: WithKey(key));

        var reused = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId, "pm_stripe_other"), configure: WithKey(key));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.Status);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", reused.Error);
    }

    [Fact]
    public async Task Checkout_ADeclineIsAFinalAnswer_AndIsReplayed()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var key = NewKey();
        var body = ShopperClient.CheckoutBody(cartId, "pm_stripe_declined");

        await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body, configure: WithKey(key));
        var replay = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body, configure: WithKey(key));

        Assert.Equal(HttpStatusCode.PaymentRequired, replay.Status);
        Assert.Equal("true", replay.Header("Idempotent-Replayed"));
        Assert.Single(app.Gateway.Ledger(cartId).Intents);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(0)]
    public async Task Checkout_KeyOfBadLength_Is400(int length)
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", new JsonObject(), configure: WithKey(new string('k', length)));
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("INVALID_IDEMPOTENCY_KEY", reply.Error);
    }
}

/// <summary>Its own host, because it slows the gateway down or takes it out.</summary>
public sealed class IdempotencyInFlightTests : IAsyncDisposable
{
    [Fact]
    public async Task Checkout_GatewayFailsThenRetryWithTheSameKey_CreatesTheOrderAndChargesOnce()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-BACKPACK-20L", 1));
        var key = "idk_" + Guid.NewGuid().ToString("N");
        var body = ShopperClient.CheckoutBody(cartId, "pm_stripe_1a2b3c4d");

        _app.Gateway.InOutage = true;
        var failed = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body, configure: r => r.Headers.Add("Idempotency-Key", key));
        _app.Gateway.InOutage = false;
        var retried = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body, configure: r => r.Headers.Add("Idempotency-Key", key));

        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal(HttpStatusCode.Created, retried.Status);
        Assert.Null(retried.Header("Idempotent-Replayed"));
        Assert.Equal(1, _app.Gateway.Ledger(cartId).Charges);
    }

    private readonly CheckoutApp _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Checkout_SameKeyWhileTheFirstIsRunning_Is409InUseWithRetryAfter()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        _app.Gateway.Latency = TimeSpan.FromSeconds(2);
        var key = "idk_" + Guid.NewGuid().ToString("N");

        var first = shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.Add("Idempotency-Key", key));
        await _app.Gateway.WaitForCallAsync(c => c.Path.EndsWith("/create", StringComparison.Ordinal))
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); // the first is now waiting on the gateway
        var second = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.Add("Idempotency-Key", key));

        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("IDEMPOTENCY_KEY_IN_USE", second.Error);
        Assert.Equal("1", second.Header("Retry-After"));
        Assert.Equal(HttpStatusCode.Created, (await first).Status);
    }
}

/// <summary>The answer kept for replay holds a confirmation token: in Redis it is only ciphertext.</summary>
public sealed class IdempotencyRecordAtRestTests(RedisServers redis)
{
    [Fact]
    public async Task TheKeptAnswer_IsEncryptedInTheStore_AndReplaysAsItWas()
    {
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = redis.Standalone.Url;
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var key = Guid.NewGuid().ToString();
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.Add("Idempotency-Key", key));
        var replayed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.Add("Idempotency-Key", key));
        var token = (string)placed.Body!["confirmation_token"]!;
        Assert.Equal("true", replayed.Header("Idempotent-Replayed"));
        Assert.Equal(token, (string?)replayed.Body!["confirmation_token"]);

        var redisDb = StateBackends.Connect(redis.Standalone.Url);
        var server = redisDb.GetServer(redisDb.GetEndPoints()[0]);
        // Each record's JSON (field d), with its kept body decoded from base64: the token is in neither.
        var kept = new List<string>();
        await foreach (var entry in server.KeysAsync(pattern: "*idem:*"))
        {
            var json = (string?)await redisDb.GetDatabase().HashGetAsync(entry, "d") ?? "";
            var body = JsonNode.Parse(json)?["body"] is JsonValue encoded ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)encoded!)) : "";
            kept.Add(json + body);
        }
        Assert.Contains(kept, value => value.Length > 200); // a completed record, with its body
        Assert.All(kept, value => Assert.DoesNotContain(token, value, StringComparison.Ordinal));
    }
}
