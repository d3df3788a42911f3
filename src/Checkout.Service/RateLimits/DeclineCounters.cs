using CheckoutService.Observability;
using CheckoutService.Storage;
using StackExchange.Redis;

namespace CheckoutService.RateLimits;

/// <summary>
/// How declines on one key are counted: the count lives <paramref name="Window"/> from its first
/// decline, and once it reaches <paramref name="Limit"/>, at least <paramref name="Refusal"/> from then.
/// </summary>
public sealed record DeclineRule(int Limit, TimeSpan Window, TimeSpan Refusal);

/// <summary>A key's declines so far and how long they are still remembered.</summary>
public sealed record DeclineCount(long Count, TimeSpan Remaining);

/// <summary>
/// Card declines per cart, session or client, shared by every replica (Redis when <c>REDIS_URL</c>
/// is set). Written only when a card is declined; read with the checkout's read-ahead.
/// </summary>
public interface IDeclineCounters
{
    /// <summary>Counts one decline on <paramref name="key"/> and returns the count so far.</summary>
    Task<long> CountAsync(string key, DeclineRule rule, CancellationToken cancellationToken);

    /// <summary>The declines remembered on <paramref name="key"/>, or null when there are none.</summary>
    Task<DeclineCount?> ReadAsync(string key, CancellationToken cancellationToken);
}

internal sealed class InMemoryDeclineCounters(InMemoryTables tables, TimeProvider time) : IDeclineCounters
{
    private readonly IExpiringTable<HitCount> _counts = tables.Open("decl:", RateLimitsJson.Default.HitCount);

    public Task<long> CountAsync(string key, DeclineRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return _counts.ChangeAsync(key, entry =>
        {
            var now = time.GetUtcNow();
            var next = new HitCount((entry?.Value.Count ?? 0) + 1);
            var expiresAt = entry?.ExpiresAt ?? now + rule.Window;
            if (next.Count >= rule.Limit && expiresAt < now + rule.Refusal)
            {
                expiresAt = now + rule.Refusal;
            }
            return Decision<long, HitCount>.Write(next.Count, next, expiresAt);
        }, cancellationToken);
    }

    public async Task<DeclineCount?> ReadAsync(string key, CancellationToken cancellationToken) =>
        await _counts.GetAsync(key, cancellationToken) is { } entry
            ? new DeclineCount(entry.Value.Count, entry.ExpiresAt - time.GetUtcNow())
            : null;
}

/// <summary>The in-process rule in one script on one key, so replicas counting at once never lose a decline or its refusal time.</summary>
internal sealed class RedisDeclineCounters(IConnectionMultiplexer redis, CheckoutMetrics? metrics = null) : IDeclineCounters
{
    private const string Count = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        if count >= tonumber(ARGV[2]) and redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return count
        """;

    public async Task<long> CountAsync(string key, DeclineRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return (long)await RedisCommandTiming.Timed(metrics, "incr", () => redis.GetDatabase().ScriptEvaluateAsync(
            Count, ["decl:" + key], [(long)rule.Window.TotalMilliseconds, rule.Limit, (long)rule.Refusal.TotalMilliseconds]));
    }

    public async Task<DeclineCount?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        // GET and PTTL go out together: one round trip.
        var read = await RedisCommandTiming.Timed(metrics, "get", () => redis.GetDatabase().StringGetWithExpiryAsync("decl:" + key));
        return read.Value.HasValue && read.Value.TryParse(out long count) ? new DeclineCount(count, read.Expiry ?? TimeSpan.Zero) : null;
    }
}
