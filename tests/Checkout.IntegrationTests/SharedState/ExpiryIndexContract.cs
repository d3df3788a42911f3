using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.SharedState;

/// <summary>What the expiry index and the keep-after-expiry of a table must do; in process, on redis-server and on a Redis Cluster.</summary>
public abstract class ExpiryIndexContract(Func<TimeProvider, IExpiringTables> backend)
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private readonly string _key = "test:expiry:" + Guid.NewGuid().ToString("N");

    private static CancellationToken None => CancellationToken.None;

    private DateTimeOffset At(int seconds) => DateTimeOffset.FromUnixTimeMilliseconds((_clock.GetUtcNow() + TimeSpan.FromSeconds(seconds)).ToUnixTimeMilliseconds());

    [Fact]
    public async Task Due_ListsWhatIsDue_EarliestFirst_AndNothingLater()
    {
        var index = backend(_clock).OpenIndex(_key);
        await index.ScheduleAsync("late", At(30), None);
        await index.ScheduleAsync("early", At(10), None);
        await index.ScheduleAsync("future", At(90), None);

        var due = await index.DueAsync(At(60), 10, None);

        Assert.Equal(["early", "late"], due.Select(d => d.Member));
        Assert.Equal(At(10), due[0].At);
        Assert.Single(await index.DueAsync(At(60), 1, None));
    }

    [Fact]
    public async Task Schedule_OnlyEverMovesAMemberLater()
    {
        var index = backend(_clock).OpenIndex(_key);
        await index.ScheduleAsync("session", At(60), None);

        await index.ScheduleAsync("session", At(20), None);

        Assert.Empty(await index.DueAsync(At(30), 10, None));
        Assert.Equal(At(60), Assert.Single(await index.DueAsync(At(60), 10, None)).At);
    }

    [Fact]
    public async Task Remove_TakesTheMemberOnlyAtTheTimeItWasRead()
    {
        var index = backend(_clock).OpenIndex(_key);
        await index.ScheduleAsync("session", At(10), None);
        var read = Assert.Single(await index.DueAsync(At(10), 10, None));
        await index.ScheduleAsync("session", At(40), None); // renewed after the sweep read it

        Assert.False(await index.RemoveAsync("session", read.At, None));
        Assert.True(await index.RemoveAsync("session", At(40), None));
        Assert.Empty(await index.DueAsync(At(100), 10, None));
    }

    [Fact]
    public async Task AnExpiredEntry_StaysReadableWithPeek_ForItsKeep_ThenGoes()
    {
        var table = backend(_clock).Open(_key + ":", SharedStateJson.Default.Counter, keepAfterExpiry: TimeSpan.FromMinutes(10));
        await table.ChangeAsync("k", _ => Decision<bool, Counter>.Write(true, new Counter(7), _clock.GetUtcNow().AddMinutes(1)), None);

        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Null(await table.GetAsync("k", None));
        Assert.Equal(7, (await table.PeekAsync("k", None))!.Value.Value);
        await table.PurgeAsync("k", None);
        Assert.Null(await table.PeekAsync("k", None));
    }

    [Fact]
    public async Task AnExpiredEntry_IsNotRevivedByAChangeThatSeesItGone()
    {
        var table = backend(_clock).Open(_key + ":", SharedStateJson.Default.Counter, keepAfterExpiry: TimeSpan.FromMinutes(10));
        await table.ChangeAsync("k", _ => Decision<bool, Counter>.Write(true, new Counter(7), _clock.GetUtcNow().AddMinutes(1)), None);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var seen = await table.ChangeAsync("k", e => Decision<bool, Counter>.Keep(e is not null), None);

        Assert.False(seen);
        Assert.NotNull(await table.PeekAsync("k", None));
    }
}

public sealed class InMemoryExpiryIndexTests() : ExpiryIndexContract(StateBackends.InMemory);

public sealed class RedisExpiryIndexTests(RedisServers redis) : ExpiryIndexContract(StateBackends.Redis(redis.Standalone.Url));

public sealed class RedisClusterExpiryIndexTests(RedisServers redis) : ExpiryIndexContract(StateBackends.Redis(redis.ClusterUrl))
{
    [Fact]
    public async Task TheIndexIsSpreadOverTheClustersNodes_AndWhatTheOneKeyBeforeItHeldIsStillSwept()
    {
        var key = "test:expiry:" + Guid.NewGuid().ToString("N");
        var connection = StateBackends.Connect(redis.ClusterUrl);
        var index = StateBackends.Redis(redis.ClusterUrl)(TimeProvider.System).OpenIndex(key);
        var due = DateTimeOffset.FromUnixTimeMilliseconds(TimeProvider.System.GetUtcNow().AddMinutes(-1).ToUnixTimeMilliseconds());
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => index.ScheduleAsync($"session-{i}", due, CancellationToken.None)));
        // Written by a replica from before the index was spread.
        await connection.GetDatabase().SortedSetAddAsync(key, "old-session", due.ToUnixTimeMilliseconds());

        var nodes = Enumerable.Range(0, 16).Select(i => connection.HashSlot($"{key}:{{{i}}}"))
            .Select(slot => connection.GetServers().Single(s => !s.IsReplica && s.ClusterConfiguration!.GetBySlot(slot) is { } node && node.EndPoint!.Equals(s.EndPoint)))
            .Distinct().Count();
        var found = await index.DueAsync(TimeProvider.System.GetUtcNow(), 100, CancellationToken.None);

        Assert.Equal(3, nodes);
        Assert.Equal(65, found.Count);
        Assert.True(await index.RemoveAsync("old-session", due, CancellationToken.None));
        Assert.Equal(64, await index.CountAsync(CancellationToken.None));
    }
}
