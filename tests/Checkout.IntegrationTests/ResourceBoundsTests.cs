using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// Nothing a client sends can grow the process without bound: bodies are capped on every endpoint,
/// state-creating calls are rate-limited, and the in-process store has a ceiling. The clock is
/// fake and stands mid-minute, so no rate-limit window turns over during a test.
/// </summary>
public sealed class ResourceBoundsTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(CheckoutApp.TraceMorning);
    private readonly CheckoutApp _app;

    public ResourceBoundsTests() => _app = new CheckoutApp { Clock = _clock };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static Action<HttpRequestMessage> From(string ip) => r => r.Headers.Add("X-Forwarded-For", ip);

    public static TheoryData<string, string> JsonEndpoints => new()
    {
        { "POST", "/api/v2/carts" },
        { "PUT", "/api/v2/carts/cart_abc/items/SKU-MUG-12OZ" },
        { "POST", "/api/v2/checkout/guest/session" },
        { "PUT", "/api/v2/checkout/guest/session/guest:sess:00000000-0000-0000-0000-000000000000/shipping-address" },
        { "PUT", "/api/v2/checkout/guest/session/guest:sess:00000000-0000-0000-0000-000000000000/payment-method" },
        { "POST", "/api/v2/checkout/guest" },
    };

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task EveryJsonEndpoint_RefusesABodyOver8KB_With413NamingTheLimit(string method, string path)
    {
        using var shopper = _app.Shopper();
        var padding = new string('x', 9 * 1024);

        var reply = await shopper.SendAsync(new HttpMethod(method), path, new JsonObject { ["items"] = new JsonArray(), ["padding"] = padding });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", reply.Error);
        Assert.Equal("Request body is larger than 8 KB", (string?)reply.Body!["message"]);
    }

    [Fact]
    public async Task CartCreation_A27MBBody_Is413BeforeItIsSent()
    {
        using var shopper = _app.Shopper();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/carts")
        {
            Content = new ByteArrayContent(new byte[27 * 1024 * 1024]) { Headers = { ContentType = new("application/json") } },
        };
        // The client waits for the server's go-ahead, as browsers' big uploads do: the refusal comes first.
        request.Headers.ExpectContinue = true;

        var reply = await Reply.ReadAsync(await shopper.Http.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", reply.Error);
    }

    [Fact]
    public async Task CartCreation_SixtyPerMinutePerIp_ThenRateLimited()
    {
        await using var app = LimitedApp("RATE_LIMIT_CART_CREATES_PER_MINUTE", "60");
        using var shopper = app.Shopper();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 61; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", new JsonObject { ["items"] = new JsonArray() }, configure: From("203.0.113.7"))).Status);
        }

        Assert.All(statuses.Take(60), s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[60]);
        var otherClient = await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", new JsonObject { ["items"] = new JsonArray() }, configure: From("198.51.100.7"));
        Assert.Equal(HttpStatusCode.Created, otherClient.Status);
    }

    [Fact]
    public async Task SessionStarts_TwentyPerMinutePerIp_ThenRateLimited()
    {
        await using var app = LimitedApp("RATE_LIMIT_SESSION_STARTS_PER_MINUTE", "20");
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 21; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest/session",
                new JsonObject { ["cart_id"] = cartId, ["email"] = "user4827@example.com" }, configure: From("203.0.113.8"))).Status);
        }

        Assert.All(statuses.Take(20), s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[20]);
    }

    [Fact]
    public async Task SessionWrites_CountPerSession_WhateverTheClient()
    {
        await using var app = LimitedApp("RATE_LIMIT_SESSION_WRITES_PER_MINUTE", "5");
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        var (otherSessionId, otherToken) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await shopper.SavePaymentMethodAsync(sessionId, $"pm_stripe_{i}", token, From($"203.0.113.{i}"))).Status);
        }
        var other = await shopper.SavePaymentMethodAsync(otherSessionId, "pm_stripe_other", otherToken);

        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task SessionWrites_CountOnceHoweverTheIdIsSpelled_AndJunkWithoutTheTokenSpendsNothingOfTheOwners()
    {
        await using var app = LimitedApp("RATE_LIMIT_SESSION_WRITES_PER_MINUTE", "5");
        using var shopper = app.Shopper();
        var (sessionId, token) = await shopper.StartSessionAsync(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1)));
        var uuid = sessionId["guest:sess:".Length..];

        // 30 junk writes from one address: no token, a token for another session, every spelling.
        for (var i = 0; i < 30; i++)
        {
            await shopper.SavePaymentMethodAsync(i % 2 == 0 ? uuid.ToUpperInvariant() : sessionId, "pm_junk", i % 3 == 0 ? null : "gst_forged", From("198.51.100.66"));
        }
        var statuses = new List<HttpStatusCode>();
        // Every spelling the API accepts for the session.
        foreach (var spelling in (string[])[sessionId, uuid, uuid.ToUpperInvariant(), "guest:sess:" + uuid.ToUpperInvariant(), uuid, sessionId])
        {
            statuses.Add((await shopper.SavePaymentMethodAsync(spelling, "pm_stripe_owner", token, From("203.0.113.7"))).Status);
        }

        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]); // five writes of one session, however spelled
    }

    [Fact]
    public async Task CartFlood_StopsAtTheStoreCap_With503RetryAfter_AndExpiredEntriesMakeRoomFirst()
    {
        await using var app = new CheckoutApp { Clock = _clock };
        app.Settings["INPROCESS_STORE_MAX_ENTRIES"] = "100";
        app.Settings["CART_TTL_SECONDS"] = "60";
        using var shopper = app.Shopper();
        var store = app.Services.GetRequiredService<InMemoryTables>();

        var replies = new List<Reply>();
        for (var i = 0; i < 150; i++)
        {
            replies.Add(await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", new JsonObject { ["items"] = new JsonArray() }));
        }

        var created = replies.Count(r => r.Status == HttpStatusCode.Created);
        Assert.InRange(created, 90, 99); // the cap less the rate-limit counters that share it
        Assert.Equal(100, store.Entries);
        var full = replies[^1];
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.Status);
        Assert.Equal("SERVICE_UNAVAILABLE", full.Error);
        Assert.NotNull(full.Header("Retry-After"));

        _clock.Advance(TimeSpan.FromSeconds(61)); // every cart has expired: a new one finds room
        Assert.Equal(HttpStatusCode.Created, (await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", new JsonObject { ["items"] = new JsonArray() })).Status);
        Assert.InRange(store.Entries, 1, 3);
    }

    [Theory]
    [InlineData("RATE_LIMIT_CART_CREATES_PER_MINUTE", "1000000")]
    [InlineData("RATE_LIMIT_SESSION_STARTS_PER_MINUTE", "1000000")]
    [InlineData("INPROCESS_STORE_MAX_ENTRIES", "10000000")]
    public async Task TheNewLimits_AcceptLargeValues(string variable, string value)
    {
        await using var app = new CheckoutApp();
        app.Settings[variable] = value;
        using var shopper = app.Shopper();
        Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Get, "/healthz", null)).Status);
    }

    private static CheckoutApp LimitedApp(string variable, string value)
    {
        var app = new CheckoutApp { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };
        app.Settings[variable] = value;
        return app;
    }
}
