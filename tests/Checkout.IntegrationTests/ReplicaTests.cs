using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// Two instances of the service on one Redis, one PostgreSQL and one gateway: the shared state
/// behaves as one service.
/// </summary>
public sealed class ReplicaTests(RedisServers redis, PostgresServer postgres) : IAsyncLifetime
{
    private EmbeddedGatewaySimulator _gateway = null!;
    private CheckoutApp _a = null!;
    private CheckoutApp _b = null!;
    private string _redisUrl = "";

    public async ValueTask InitializeAsync()
    {
        _gateway = await EmbeddedGatewaySimulator.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        // A Redis of their own: the sessions' expiry index is one key, which other tests' replicas would sweep.
        _redisUrl = (await redis.StartStandaloneAsync()).Url;
        (_a, _b) = (Replica(database, _redisUrl), Replica(database, _redisUrl));
    }

    /// <summary>Both replicas read one fake clock standing mid-minute, so a rate-limit window never turns over mid-test.</summary>
    private readonly FakeTimeProvider _clock = new(CheckoutApp.TraceMorning);

    private CheckoutApp Replica(string database, string redisUrl)
    {
        var app = new CheckoutApp { Clock = _clock };
        app.Settings["REDIS_URL"] = redisUrl;
        app.Settings["DATABASE_URL"] = database;
        app.Settings["PAYMENT_GATEWAY_URL"] = _gateway.BaseAddress.ToString();
        app.Settings["RATE_LIMIT_CHECKOUT_PER_MINUTE"] = "5";
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task APageFormRenderedByOneReplica_IsAcceptedByTheOther()
    {
        using var cookies = new HttpClientHandler { AllowAutoRedirect = false };
        using var onA = _a.Shopper();
        using var onB = _b.Shopper();
        using var browser = new HttpClient(cookies);
        var page = await browser.GetStringAsync(new Uri(onA.Http.BaseAddress!, "/"), TestContext.Current.CancellationToken);
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);

        // The same browser (its antiforgery cookie) posts the form to the other replica.
        var posted = await browser.PostAsync(new Uri(onB.Http.BaseAddress!, "/"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "cart", ["__RequestVerificationToken"] = token, ["Form.Quantities[SKU-MUG-12OZ]"] = "1",
        }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Contains("/checkout/guest?cart_id=cart_", posted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        // Shared through Redis, not through this machine's profile folder, which pods do not share.
        Assert.True(await StateBackends.Connect(_redisUrl).GetDatabase().ListLengthAsync("checkout:data-protection-keys") > 0);
    }

    [Fact]
    public async Task Checkout_TwentyAtOnceWithOneKeyAcrossTwoReplicas_GiveOneOrderAndOneCharge()
    {
        using var onA = _a.Shopper();
        using var onB = _b.Shopper();
        var cartId = await onA.CreateCartAsync(("SKU-HEADPHONES-BT", 1));
        var key = "idk_" + Guid.NewGuid().ToString("N");

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? onA : onB).SendAsync(
            HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: r =>
            {
                r.Headers.Add("Idempotency-Key", key);
                r.Headers.Add("X-Forwarded-For", $"198.51.100.{i}"); // twenty shoppers' worth of rate limit
            })));

        var created = replies.Where(r => r.Status == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.Single(created.Select(r => (string)r.Body!["order_id"]!).Distinct());
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Contains(r.Error, new[] { "IDEMPOTENCY_KEY_IN_USE", "CHECKOUT_IN_PROGRESS", "CART_CHECKED_OUT" });
        });
        Assert.Equal(1, _gateway.Simulator.Ledger(cartId).Charges);
        Assert.Single(_gateway.Simulator.Ledger(cartId).Intents);

        var replayOnB = await onB.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", ShopperClient.CheckoutBody(cartId), configure: r => r.Headers.Add("Idempotency-Key", key));
        Assert.Equal("true", replayOnB.Header("Idempotent-Replayed"));
        Assert.Equal((string)created[0].Body!["order_id"]!, (string)replayOnB.Body!["order_id"]!);
    }

    [Fact]
    public async Task Session_StartedOnOneReplica_IsServedByTheOther()
    {
        using var onA = _a.Shopper();
        using var onB = _b.Shopper();
        var cartId = await onA.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await onA.StartSessionAsync(cartId);

        await onB.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", ShopperClient.Springfield.DeepClone(), token);
        var read = await onA.GetSessionAsync(sessionId, token);

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.True((bool)read.Body!["shipping_address_complete"]!);
    }

    [Fact]
    public async Task RateLimit_IsCountedAcrossReplicas()
    {
        using var onA = _a.Shopper();
        using var onB = _b.Shopper();
        const string ip = "203.0.113.77";
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            var reply = await (i % 2 == 0 ? onA : onB).SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", new JsonObject(),
                configure: r => r.Headers.Add("X-Forwarded-For", ip));
            statuses.Add(reply.Status);
        }
        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.UnprocessableEntity, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
    }
}
