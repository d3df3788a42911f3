using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CheckoutService.Observability;
using StackExchange.Redis;
using static CheckoutService.Storage.RedisCommandTiming;

namespace CheckoutService.Storage;

/// <summary>
/// An <see cref="IExpiringTable{T}"/> on Redis, standalone or Cluster. Each record is one hash
/// (<c>v</c> a random version, <c>x</c> its expiry in Unix ms, <c>d</c> the JSON), so every
/// operation touches one key and one hash slot. Changes are optimistic: read, decide in C#, then a
/// compare-and-set script that writes only if the version is still the one read; a loser re-reads.
/// Redis expires the key itself a little after <c>x</c>, so nothing is left behind.
/// </summary>
internal sealed class RedisTable<T>(IDatabase redis, string keyPrefix, JsonTypeInfo<T> json, TimeProvider time, TimeSpan keepAfterExpiry, CheckoutMetrics? metrics)
    : IExpiringTable<T>
    where T : class
{
    /// <summary>Enough rounds for ten writers on one key to all get through (each round one wins).</summary>
    public const int MaxAttempts = 32;

    /// <summary>How long Redis keeps a key past its logical expiry, so clock skew between replicas cannot drop a live record.</summary>
    private static readonly TimeSpan MinimumGrace = TimeSpan.FromMinutes(1);

    private readonly TimeSpan _grace = keepAfterExpiry > MinimumGrace ? keepAfterExpiry : MinimumGrace;

    private static readonly RedisValue[] Fields = ["v", "x", "d"];

    // ARGV: expected version ('' = must be absent or expired), now ms, new version, expiry ms, data, physical TTL ms
    private const string CompareAndSet = """
        local v = redis.call('HGET', KEYS[1], 'v')
        if ARGV[1] == '' then
          if v then
            local x = tonumber(redis.call('HGET', KEYS[1], 'x'))
            if x and x > tonumber(ARGV[2]) then return 0 end
          end
        elseif v ~= ARGV[1] then
          return 0
        end
        redis.call('HSET', KEYS[1], 'v', ARGV[3], 'x', ARGV[4], 'd', ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        return 1
        """;

    private const string CompareAndDelete = """
        if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """;

    public async Task<Entry<T>?> GetAsync(string key, CancellationToken cancellationToken) =>
        (await ReadAsync(keyPrefix + key)).Entry;

    public async Task<Entry<T>?> PeekAsync(string key, CancellationToken cancellationToken) =>
        (await ReadAsync(keyPrefix + key, includeExpired: true)).Entry;

    public Task PurgeAsync(string key, CancellationToken cancellationToken) => Timed(metrics, "del", () => redis.KeyDeleteAsync(keyPrefix + key));

    public async Task<TResult> ChangeAsync<TResult>(string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decide);
        var redisKey = (RedisKey)(keyPrefix + key);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (entry, version) = await ReadAsync(redisKey);
            var decision = decide(entry);
            if (decision.NewValue is { } value)
            {
                var now = time.GetUtcNow();
                var ttl = decision.NewExpiry - now + _grace;
                var written = (int)await Timed(metrics, "set", () => redis.ScriptEvaluateAsync(CompareAndSet, [redisKey],
                [
                    entry is null ? "" : version,
                    now.ToUnixTimeMilliseconds(),
                    RandomNumberGenerator.GetHexString(16, lowercase: true),
                    decision.NewExpiry.ToUnixTimeMilliseconds(),
                    JsonSerializer.Serialize(value, json),
                    (long)Math.Max(1, ttl.TotalMilliseconds),
                ]));
                if (written == 1)
                {
                    return decision.Result;
                }
            }
            else if (decision.Delete && entry is not null)
            {
                if ((int)await Timed(metrics, "del", () => redis.ScriptEvaluateAsync(CompareAndDelete, [redisKey], [version])) == 1)
                {
                    return decision.Result;
                }
            }
            else
            {
                return decision.Result;
            }
        }
        throw new StoreContentionException(key);
    }

    private async Task<(Entry<T>? Entry, RedisValue Version)> ReadAsync(RedisKey key, bool includeExpired = false)
    {
        var fields = await Timed(metrics, "get", () => redis.HashGetAsync(key, Fields));
        if (fields[2].IsNull || !long.TryParse((string?)fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresMs))
        {
            return (null, RedisValue.Null);
        }
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(expiresMs);
        if (expiresAt <= time.GetUtcNow() && !includeExpired)
        {
            return (null, fields[0]);
        }
        return (new Entry<T>(JsonSerializer.Deserialize((string)fields[2]!, json)!, expiresAt), fields[0]);
    }
}

internal static class RedisCommandTiming
{
    /// <summary>Times and counts a command when the host keeps metrics (tests building tables by hand may not).</summary>
    public static Task<TResult> Timed<TResult>(CheckoutMetrics? metrics, string cmd, Func<Task<TResult>> command) =>
        metrics is null ? command() : metrics.RedisAsync(cmd, command);
}

/// <summary>The tables on one Redis connection.</summary>
internal sealed class RedisTables(IConnectionMultiplexer redis, TimeProvider time, CheckoutMetrics? metrics = null) : IExpiringTables
{
    public IExpiringTable<T> Open<T>(string keyPrefix, JsonTypeInfo<T> json, TimeSpan keepAfterExpiry = default) where T : class =>
        new RedisTable<T>(redis.GetDatabase(), keyPrefix, json, time, keepAfterExpiry, metrics);

    public IExpiryIndex OpenIndex(string key) => new RedisExpiryIndex(redis.GetDatabase(), key, metrics);
}

/// <summary>An <see cref="IExpiryIndex"/> as one Redis sorted set, scored by due time in Unix ms.</summary>
internal sealed class RedisExpiryIndex(IDatabase redis, RedisKey key, CheckoutMetrics? metrics) : IExpiryIndex
{
    private const string RemoveIfScore = """
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score and tonumber(score) == tonumber(ARGV[2]) then
          return redis.call('ZREM', KEYS[1], ARGV[1])
        end
        return 0
        """;

    public Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
        Timed(metrics, "zadd", () => redis.SortedSetAddAsync(key, member, at.ToUnixTimeMilliseconds(), SortedSetWhen.GreaterThan));

    public async Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        [.. (await Timed(metrics, "zrangebyscore", () => redis.SortedSetRangeByScoreWithScoresAsync(key, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: limit)))
            .Select(e => ((string)e.Element!, DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score)))];

    public async Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
        (int)await Timed(metrics, "zrem", () => redis.ScriptEvaluateAsync(RemoveIfScore, [key], [member, at.ToUnixTimeMilliseconds()])) == 1;

    public async Task<long> CountAsync(CancellationToken cancellationToken) => await redis.SortedSetLengthAsync(key);
}
