using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>The edge limits, enforced by the service and checked over HTTP.</summary>
public sealed class EdgeProtectionTests : IAsyncDisposable
{
    // A fake clock standing mid-minute: no rate-limit window turns over during a test.
    private readonly CheckoutApp _app = new() { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };

    public EdgeProtectionTests()
    {
        _app.Settings["RATE_LIMIT_CHECKOUT_PER_MINUTE"] = "10";
        _app.Settings["RATE_LIMIT_SESSION_READS_PER_MINUTE"] = "30";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static Action<HttpRequestMessage> From(string ip) => r => r.Headers.Add("X-Forwarded-For", ip);

    [Fact]
    public async Task Checkout_TenPerMinutePerIp_ThenRateLimitedWithHeaders()
    {
        using var shopper = _app.Shopper();
        var replies = new List<Reply>();
        for (var i = 0; i < 11; i++)
        {
            replies.Add(await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", new JsonObject(), configure: From("203.0.113.42")));
        }

        Assert.All(replies.Take(10), r => Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status));
        Assert.Equal(["9", "8", "7", "6", "5", "4", "3", "2", "1", "0", "0"], replies.Select(r => r.Header("X-RateLimit-Remaining")));
        Assert.All(replies, r => Assert.Equal("10", r.Header("X-RateLimit-Limit")));
        var windowEnd = new DateTimeOffset(2025, 9, 10, 8, 15, 0, TimeSpan.Zero).ToUnixTimeSeconds(); // the minute after 08:14:22
        Assert.Equal(windowEnd, long.Parse(replies[0].Header("X-RateLimit-Reset")!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("\"checkout\";q=10;w=60", replies[0].Header("RateLimit-Policy"));
        Assert.StartsWith("\"checkout\";r=9;t=", replies[0].Header("RateLimit"), StringComparison.Ordinal);

        var limited = replies[10];
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("RATE_LIMITED", limited.Error);
        Assert.InRange(int.Parse(limited.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.NotNull((string?)limited.Body!["request_id"]);

        var otherClient = await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", new JsonObject(), configure: From("198.51.100.73"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherClient.Status);
    }

    [Fact]
    public async Task SessionReads_ThirtyPerMinutePerIp()
    {
        using var shopper = _app.Shopper();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 31; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Get, "/api/v2/checkout/guest/session/guest:sess:" + Guid.NewGuid(), null, configure: From("192.0.2.155"))).Status);
        }
        Assert.All(statuses.Take(30), s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[30]);
    }

    [Fact]
    public async Task XForwardedFor_FromAnUntrustedPeer_IsIgnored()
    {
        await using var app = new CheckoutApp { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };
        app.Settings["RATE_LIMIT_CHECKOUT_PER_MINUTE"] = "2";
        app.Settings["TRUSTED_PROXIES"] = "10.0.0.1"; // the test client (127.0.0.1) is not a trusted proxy
        using var shopper = app.Shopper();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", new JsonObject(), configure: From($"203.0.113.{i}"))).Status);
        }

        // Three "different" clients, but all one untrusted peer: the third is limited.
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[2]);
    }

    [Fact]
    public async Task Cors_PreflightFromTheShop_IsAllowedForAnHour()
    {
        using var shopper = _app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Options, "/api/v2/checkout/guest", null, configure: r =>
        {
            r.Headers.Add("Origin", "https://www.vantage.com");
            r.Headers.Add("Access-Control-Request-Method", "POST");
            r.Headers.Add("Access-Control-Request-Headers", "content-type,idempotency-key,x-request-id");
        });

        Assert.Equal(HttpStatusCode.NoContent, reply.Status);
        Assert.Equal("https://www.vantage.com", reply.Header("Access-Control-Allow-Origin"));
        Assert.Contains("POST", reply.Header("Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("Idempotency-Key", reply.Header("Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("3600", reply.Header("Access-Control-Max-Age"));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://www.vantage.com")]
    [InlineData("https://www.vantage.com.evil.example")]
    public async Task Cors_PreflightFromAnotherOrigin_GetsNoAllowHeaders(string origin)
    {
        using var shopper = _app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Options, "/api/v2/checkout/guest", null, configure: r =>
        {
            r.Headers.Add("Origin", origin);
            r.Headers.Add("Access-Control-Request-Method", "POST");
        });

        Assert.Null(reply.Header("Access-Control-Allow-Origin"));
        Assert.Null(reply.Header("Access-Control-Allow-Methods"));
    }

    [Theory]
    [InlineData("GET", "/api/v2/products")]
    [InlineData("POST", "/api/v2/checkout/guest")]
    [InlineData("GET", "/api/v2/nothing-here")]
    [InlineData("GET", "/healthz")]
    public async Task EveryResponse_CarriesTheSecurityHeaders(string method, string path)
    {
        using var shopper = _app.Shopper();
        var reply = await shopper.SendAsync(new HttpMethod(method), path, method == "POST" ? new JsonObject() : null);

        Assert.Equal("max-age=31536000; includeSubDomains; preload", reply.Header("Strict-Transport-Security"));
        Assert.Equal("nosniff", reply.Header("X-Content-Type-Options"));
        Assert.Equal("DENY", reply.Header("X-Frame-Options"));
        Assert.Equal("no-referrer", reply.Header("Referrer-Policy"));
        if (path.StartsWith("/api", StringComparison.Ordinal))
        {
            Assert.Equal("no-store, no-cache", reply.Header("Cache-Control"));
        }
    }
}
