using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.RateLimits;
using CheckoutService.Storage;

namespace CheckoutService.IntegrationTests.SharedState;

/// <summary>Decline counters on each kind of shared state: every replica sees the same count and the same refusal time.</summary>
public abstract class DeclineCountersContract(Func<IDeclineCounters> counters)
{
    private static readonly DeclineRule FivePerQuarterHour = new(5, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(15));
    private static readonly DeclineRule TwentyPerHour = new(20, TimeSpan.FromHours(1), TimeSpan.FromMinutes(15));

    [Fact]
    public async Task Read_NoDeclines_IsNull()
    {
        Assert.Null(await counters().ReadAsync("cart:" + Guid.NewGuid(), CancellationToken.None));
    }

    [Fact]
    public async Task Count_TenAtOnce_CountsEachOnce_AndTheReadSeesThemAll()
    {
        var store = counters();
        var key = "cart:" + Guid.NewGuid();

        var counts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => store.CountAsync(key, TwentyPerHour, CancellationToken.None))));

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), counts.Order());
        var read = await store.ReadAsync(key, CancellationToken.None);
        Assert.Equal(10, read!.Count);
        Assert.InRange(read.Remaining, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1)); // the window, from the first decline
    }

    [Fact]
    public async Task Count_ReachingTheLimitLateInTheWindow_IsRememberedForTheWholeRefusal()
    {
        var store = counters();
        var key = "ip:" + Guid.NewGuid();
        var shortWindow = TwentyPerHour with { Limit = 2, Window = TimeSpan.FromSeconds(30) };

        await store.CountAsync(key, shortWindow, CancellationToken.None);
        Assert.InRange((await store.ReadAsync(key, CancellationToken.None))!.Remaining, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        await store.CountAsync(key, shortWindow, CancellationToken.None);

        Assert.InRange((await store.ReadAsync(key, CancellationToken.None))!.Remaining, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Count_OtherKeys_CountApart()
    {
        var store = counters();
        await store.CountAsync("cart:a" + Guid.NewGuid(), FivePerQuarterHour, CancellationToken.None);
        Assert.Equal(1, await store.CountAsync("cart:b" + Guid.NewGuid(), FivePerQuarterHour, CancellationToken.None));
    }
}

public sealed class InMemoryDeclineCountersTests()
    : DeclineCountersContract(() => new InMemoryDeclineCounters(new InMemoryTables(TimeProvider.System, maxEntries: 1_000_000), TimeProvider.System));

public sealed class RedisDeclineCountersTests(RedisServers redis)
    : DeclineCountersContract(() => new RedisDeclineCounters(StateBackends.Connect(redis.Standalone.Url)));

public sealed class RedisClusterDeclineCountersTests(RedisServers redis)
    : DeclineCountersContract(() => new RedisDeclineCounters(StateBackends.Connect(redis.ClusterUrl)));
