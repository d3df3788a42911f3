using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.SharedState;

public sealed record Counter(int Value);

/// <summary>What every expiring table must do; run in process, on redis-server and on a Redis Cluster.</summary>
public abstract class ExpiringTableContract(Func<TimeProvider, IExpiringTables> backend)
{
    protected FakeTimeProvider Clock { get; } = new(TimeProvider.System.GetUtcNow());

    private IExpiringTable<Counter> Table() =>
        backend(Clock).Open("test:counter:", SharedStateJson.Default.Counter);

    private static string Key() => Guid.NewGuid().ToString("N");

    private Task<int> IncrementAsync(IExpiringTable<Counter> table, string key) =>
        table.ChangeAsync(key, e =>
        {
            var next = new Counter((e?.Value.Value ?? 0) + 1);
            return Decision<int, Counter>.Write(next.Value, next, Clock.GetUtcNow().AddMinutes(5));
        }, CancellationToken.None);

    [Fact]
    public async Task Get_Absent_IsNull() => Assert.Null(await Table().GetAsync(Key(), CancellationToken.None));

    [Fact]
    public async Task Write_ThenGet_ReturnsValueAndExpiry()
    {
        var table = Table();
        var key = Key();
        var expiresAt = Clock.GetUtcNow().AddMinutes(15);

        await table.ChangeAsync(key, _ => Decision<bool, Counter>.Write(true, new Counter(7), expiresAt), CancellationToken.None);

        var entry = await table.GetAsync(key, CancellationToken.None);
        Assert.Equal(new Counter(7), entry!.Value);
        Assert.Equal(expiresAt.ToUnixTimeMilliseconds(), entry.ExpiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Entry_IsGoneOnceTheClockPassesItsExpiry()
    {
        var table = Table();
        var key = Key();
        await table.ChangeAsync(key, _ => Decision<bool, Counter>.Write(true, new Counter(1), Clock.GetUtcNow().AddSeconds(900)), CancellationToken.None);

        Clock.Advance(TimeSpan.FromSeconds(899));
        Assert.NotNull(await table.GetAsync(key, CancellationToken.None));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await table.GetAsync(key, CancellationToken.None));
        Assert.Equal(1, await IncrementAsync(table, key)); // an expired entry is absent to a change too
    }

    [Fact]
    public async Task Change_TenWritersOnOneKey_LoseNoUpdate()
    {
        var table = Table();
        var key = Key();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => IncrementAsync(table, key))));

        Assert.Equal(Enumerable.Range(1, 10), results.Order());
        Assert.Equal(10, (await table.GetAsync(key, CancellationToken.None))!.Value.Value);
    }

    [Fact]
    public async Task Change_FromAStaleSeenEntry_DecidesAgainOnTheNewest()
    {
        var table = Table();
        var key = Key();
        await IncrementAsync(table, key);
        var seen = new Seen<Counter>(await table.GetAsync(key, CancellationToken.None));
        await IncrementAsync(table, key); // another writer, after the entry was seen

        var written = await table.ChangeAsync(key, e =>
        {
            var next = new Counter((e?.Value.Value ?? 0) + 1);
            return Decision<int, Counter>.Write(next.Value, next, Clock.GetUtcNow().AddMinutes(5));
        }, CancellationToken.None, seen);
        var claimed = await table.ChangeAsync(key, e => e is null
            ? Decision<int, Counter>.Write(0, new Counter(0), Clock.GetUtcNow().AddMinutes(5))
            : Decision<int, Counter>.Keep(e.Value.Value), CancellationToken.None, Seen<Counter>.Absent);

        Assert.Equal(3, written);
        Assert.Equal(3, claimed); // "absent" was a guess: the key held 3, so nothing was overwritten
        Assert.Equal(3, (await table.GetAsync(key, CancellationToken.None))!.Value.Value);
    }

    [Fact]
    public async Task Change_FromTheValueJustWritten_Applies()
    {
        var table = Table();
        var key = Key();
        var expiresAt = Clock.GetUtcNow().AddMinutes(5);
        await table.ChangeAsync(key, _ => Decision<bool, Counter>.Write(true, new Counter(1), expiresAt), CancellationToken.None, Seen<Counter>.Absent);

        var seen = new Seen<Counter>(new Entry<Counter>(new Counter(1), expiresAt));
        var result = await table.ChangeAsync(key, e => Decision<int, Counter>.Write(e!.Value.Value + 1, new Counter(e.Value.Value + 1), expiresAt),
            CancellationToken.None, seen);

        Assert.Equal(2, result);
        Assert.Equal(2, (await table.GetAsync(key, CancellationToken.None))!.Value.Value);
    }

    [Fact]
    public async Task Change_KeepAndRemove_DoWhatTheySay()
    {
        var table = Table();
        var key = Key();
        await IncrementAsync(table, key);

        var seen = await table.ChangeAsync(key, e => Decision<int, Counter>.Keep(e!.Value.Value), CancellationToken.None);
        Assert.Equal(1, seen);
        Assert.NotNull(await table.GetAsync(key, CancellationToken.None));

        await table.ChangeAsync(key, e => Decision<bool, Counter>.Remove(true), CancellationToken.None);
        Assert.Null(await table.GetAsync(key, CancellationToken.None));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Counter))]
public sealed partial class SharedStateJson : System.Text.Json.Serialization.JsonSerializerContext;

public sealed class InMemoryTableTests() : ExpiringTableContract(StateBackends.InMemory);

public sealed class RedisTableTests(RedisServers redis) : ExpiringTableContract(StateBackends.Redis(redis.Standalone.Url));

public sealed class RedisClusterTableTests(RedisServers redis) : ExpiringTableContract(StateBackends.Redis(redis.ClusterUrl));
