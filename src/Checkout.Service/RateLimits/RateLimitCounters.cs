using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Observability;
using CheckoutService.Storage;
using StackExchange.Redis;

namespace CheckoutService.RateLimits;

/// <summary>
/// Fixed-window hit counters shared by every replica: one counter per (policy, client, window),
/// counted atomically and dropped after the window. Redis when <c>REDIS_URL</c> is set.
/// </summary>
public interface IRateLimitCounters
{
    /// <summary>Counts one hit on <paramref name="key"/> and returns the count so far in its window.</summary>
    Task<long> HitAsync(string key, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>The count so far in <paramref name="key"/>'s window, without counting a hit: 0 when there is none.</summary>
    Task<long> CountAsync(string key, CancellationToken cancellationToken);
}

internal sealed class InMemoryRateLimitCounters(InMemoryTables tables, TimeProvider time) : IRateLimitCounters
{
    private readonly IExpiringTable<HitCount> _counts = tables.Open("rl:", RateLimitsJson.Default.HitCount);

    public Task<long> HitAsync(string key, TimeSpan window, CancellationToken cancellationToken) =>
        _counts.ChangeAsync(key, entry =>
        {
            var next = new HitCount((entry?.Value.Count ?? 0) + 1);
            return Decision<long, HitCount>.Write(next.Count, next, entry?.ExpiresAt ?? time.GetUtcNow() + window);
        }, cancellationToken);

    public async Task<long> CountAsync(string key, CancellationToken cancellationToken) =>
        (await _counts.GetAsync(key, cancellationToken))?.Value.Count ?? 0;
}

/// <summary>The count for an in-process window.</summary>
public sealed record HitCount(long Count);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HitCount))]
internal sealed partial class RateLimitsJson : JsonSerializerContext;

/// <summary>INCR and, on the window's first hit, PEXPIRE, in one script on one key.</summary>
internal sealed class RedisRateLimitCounters(IConnectionMultiplexer redis, CheckoutMetrics? metrics = null) : IRateLimitCounters
{
    private const string Hit = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """;

    public async Task<long> HitAsync(string key, TimeSpan window, CancellationToken cancellationToken) =>
        (long)await RedisCommandTiming.Timed(metrics, "incr", () => redis.GetDatabase().ScriptEvaluateAsync(Hit, ["rl:" + key], [(long)window.TotalMilliseconds]));

    public async Task<long> CountAsync(string key, CancellationToken cancellationToken) =>
        (long?)await RedisCommandTiming.Timed(metrics, "get", () => redis.GetDatabase().StringGetAsync("rl:" + key)) ?? 0;
}
