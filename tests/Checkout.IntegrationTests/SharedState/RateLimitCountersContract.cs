using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.RateLimits;
using CheckoutService.Storage;

namespace CheckoutService.IntegrationTests.SharedState;

/// <summary>Rate-limit counters on each kind of shared state.</summary>
public abstract class RateLimitCountersContract(Func<IRateLimitCounters> counters)
{
    [Fact]
    public async Task Hit_TenAtOnce_CountsEachOnce()
    {
        var store = counters();
        var key = Guid.NewGuid().ToString("N");
        var counts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => store.HitAsync(key, TimeSpan.FromMinutes(1), CancellationToken.None))));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), counts.Order());
    }

    [Fact]
    public async Task Count_ReadsTheWindowWithoutCountingAHit()
    {
        var store = counters();
        var key = Guid.NewGuid().ToString("N");
        Assert.Equal(0, await store.CountAsync(key, CancellationToken.None));
        await store.HitAsync(key, TimeSpan.FromMinutes(1), CancellationToken.None);
        await store.HitAsync(key, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(2, await store.CountAsync(key, CancellationToken.None));
        Assert.Equal(2, await store.CountAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Hit_OtherKeys_CountApart()
    {
        var store = counters();
        await store.HitAsync("a" + Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(1, await store.HitAsync("b" + Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None));
    }
}

public sealed class InMemoryRateLimitCountersTests()
    : RateLimitCountersContract(() => new InMemoryRateLimitCounters(new InMemoryTables(TimeProvider.System, maxEntries: 1_000_000), TimeProvider.System));

public sealed class RedisRateLimitCountersTests(RedisServers redis)
    : RateLimitCountersContract(() => new RedisRateLimitCounters(StateBackends.Connect(redis.Standalone.Url)));

public sealed class RedisClusterRateLimitCountersTests(RedisServers redis)
    : RateLimitCountersContract(() => new RedisRateLimitCounters(StateBackends.Connect(redis.ClusterUrl)));
