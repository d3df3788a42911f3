using System.Diagnostics;
using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>Redis stops under a running instance: clear 503s, then service again by itself.</summary>
public sealed class RedisOutageTests(RedisServers redis) : IAsyncLifetime
{
    private RedisProcess _redis = null!;
    private CheckoutApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await redis.StartStandaloneAsync();
        _app = new CheckoutApp();
        _app.Settings["REDIS_URL"] = _redis.Url;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _redis.Kill();
    }

    [Fact]
    public async Task RedisStopped_Answers503InTheSpecsShapeWithinSeconds_AndRecoversWhenItIsBack()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        await _redis.StopAsync();
        var clock = Stopwatch.StartNew();
        var down = await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null);
        var elapsed = clock.Elapsed;
        var health = await shopper.SendAsync(HttpMethod.Get, "/healthz", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
        Assert.Equal("SERVICE_UNAVAILABLE", down.Error);
        Assert.NotNull((string?)down.Body!["request_id"]);
        Assert.NotNull(down.Header("Retry-After"));
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
        Assert.Equal("down", (string)health.Body!["checks"]!["redis"]!);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))).Status);

        await _redis.StartAsync();
        var recovered = await Eventually.TrueAsync(async () =>
            (await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", new System.Text.Json.Nodes.JsonObject { ["items"] = new System.Text.Json.Nodes.JsonArray() })).Status == HttpStatusCode.Created,
            TimeSpan.FromSeconds(15));

        Assert.True(recovered, "the same instance did not recover within 15 s");
        Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Get, "/healthz", null)).Status);
    }
}
