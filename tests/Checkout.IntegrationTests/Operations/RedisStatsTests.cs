using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>The expired-keys metric comes from Redis's own INFO, which StackExchange.Redis sends only over an admin connection.</summary>
public sealed class RedisStatsTests(RedisServers redis)
{
    [Fact]
    public async Task KeysRedisExpired_ReachTheMetric()
    {
        var server = await redis.StartStandaloneAsync();
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = server.Url;
        using var shopper = app.Shopper(); // starts the host
        var db = StateBackends.Connect(server.Url).GetDatabase();
        for (var i = 0; i < 3; i++)
        {
            await db.StringSetAsync($"test:expiring:{i}", "x", TimeSpan.FromMilliseconds(1));
        }
        await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            Assert.False((await db.StringGetAsync($"test:expiring:{i}")).HasValue); // read after expiry: Redis counts it expired
        }

        await app.Services.GetServices<IHostedService>().OfType<RedisStats>().Single().RefreshAsync();

        var metrics = app.Services.GetRequiredService<CheckoutMetrics>();
        Assert.True(metrics.RedisExpiredKeys.WithLabels(metrics.RedisCluster).Value >= 3);
    }
}
