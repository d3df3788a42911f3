using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CheckoutService.Observability;
using StackExchange.Redis;
using static CheckoutService.Storage.RedisCommandTiming;

namespace CheckoutService.Storage;

/// <summary>
/// An <see cref="IExpiringTable{T}"/> on Redis, standalone or Cluster. Each record is one hash
/// (<c>v</c> a stamp of its content, <c>x</c> its expiry in Unix ms, <c>d</c> the JSON), so every
/// operation touches one key and one hash slot. Changes are optimistic: decide in C# on what was
/// read (or what the caller had <see cref="Seen{T}">seen</see>), then a compare-and-set script writes
/// only if the stamp is still the one decided on. A loser gets the newest record back from the same
/// script and decides again, so contention costs no extra reads. The stamp is a hash of expiry and
/// JSON, so the value a caller holds (read or just written) tells its stamp without asking Redis.
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

    // ARGV: expected stamp ('' = must be absent or expired), now ms, new stamp, expiry ms, data, physical TTL ms.
    // Returns {1} when written, otherwise {0, v, x, d}: the record as it is, for the next decision.
    private const string CompareAndSet = """
        local cur = redis.call('HMGET', KEYS[1], 'v', 'x', 'd')
        local v = cur[1]
        if ARGV[1] == '' then
          if v and tonumber(cur[2]) and tonumber(cur[2]) > tonumber(ARGV[2]) then return {0, v, cur[2], cur[3]} end
        elseif v ~= ARGV[1] then
          if v then return {0, v, cur[2], cur[3]} end
          return {0}
        end
        redis.call('HSET', KEYS[1], 'v', ARGV[3], 'x', ARGV[4], 'd', ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        return {1}
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

    public async Task<TResult> ChangeAsync<TResult>(
        string key, Func<Entry<T>?, Decision<TResult, T>> decide, CancellationToken cancellationToken, Seen<T>? seen = null)
    {
        ArgumentNullException.ThrowIfNull(decide);
        var redisKey = (RedisKey)(keyPrefix + key);
        var (entry, stamp) = seen is null ? await ReadAsync(redisKey) : StampOf(seen.Entry);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var decision = decide(entry);
            if (decision.NewValue is { } value)
            {
                var now = time.GetUtcNow();
                var data = JsonSerializer.Serialize(value, json);
                var expiresMs = decision.NewExpiry.ToUnixTimeMilliseconds();
                var ttl = decision.NewExpiry - now + _grace;
                var answer = (RedisResult[])(await Timed(metrics, "set", () => redis.ScriptEvaluateAsync(CompareAndSet, [redisKey],
                [
                    entry is null ? "" : stamp,
                    now.ToUnixTimeMilliseconds(),
                    Stamp(data, expiresMs),
                    expiresMs,
                    data,
                    (long)Math.Max(1, ttl.TotalMilliseconds),
                ])))!;
                if ((int)answer[0] == 1)
                {
                    return decision.Result;
                }
                (entry, stamp) = answer.Length == 4 ? Parse((RedisValue)answer[1], (RedisValue)answer[2], (RedisValue)answer[3]) : (null, RedisValue.Null);
            }
            else if (decision.Delete && entry is not null)
            {
                if ((int)await Timed(metrics, "del", () => redis.ScriptEvaluateAsync(CompareAndDelete, [redisKey], [stamp])) == 1)
                {
                    return decision.Result;
                }
                (entry, stamp) = await ReadAsync(redisKey);
            }
            else
            {
                return decision.Result;
            }
        }
        throw new StoreContentionException(key);
    }

    /// <summary>A seen entry and the stamp it would have in Redis; an expired one is absent to a change.</summary>
    private (Entry<T>? Entry, RedisValue Stamp) StampOf(Entry<T>? seen) =>
        seen is null || seen.ExpiresAt <= time.GetUtcNow()
            ? (null, RedisValue.Null)
            : (seen, Stamp(JsonSerializer.Serialize(seen.Value, json), seen.ExpiresAt.ToUnixTimeMilliseconds()));

    /// <summary>Equal stamps mean equal records (expiry and content), which is all a compare-and-set needs to know.</summary>
    private static string Stamp(string data, long expiresMs) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{expiresMs}\n{data}")), 0, 16);

    private async Task<(Entry<T>? Entry, RedisValue Stamp)> ReadAsync(RedisKey key, bool includeExpired = false)
    {
        var fields = await Timed(metrics, "get", () => redis.HashGetAsync(key, Fields));
        return Parse(fields[0], fields[1], fields[2], includeExpired);
    }

    private (Entry<T>? Entry, RedisValue Stamp) Parse(RedisValue stamp, RedisValue expires, RedisValue data, bool includeExpired = false)
    {
        if (data.IsNull || !long.TryParse((string?)expires, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresMs))
        {
            return (null, RedisValue.Null);
        }
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(expiresMs);
        if (expiresAt <= time.GetUtcNow() && !includeExpired)
        {
            return (null, stamp);
        }
        return (new Entry<T>(JsonSerializer.Deserialize((string)data!, json)!, expiresAt), stamp);
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

/// <summary>
/// An <see cref="IExpiryIndex"/> as Redis sorted sets scored by due time in Unix ms, spread over
/// <see cref="Shards"/> keys whose hash tags put them in different slots: on a Cluster, a node that
/// is down holds up only the members kept on it, not every write that schedules one.
/// </summary>
internal sealed class RedisExpiryIndex(IDatabase redis, string key, CheckoutMetrics? metrics) : IExpiryIndex
{
    public const int Shards = 16;

    private const string RemoveIfScore = """
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score and tonumber(score) == tonumber(ARGV[2]) then
          return redis.call('ZREM', KEYS[1], ARGV[1])
        end
        return 0
        """;

    private readonly RedisKey[] _shards = [.. Enumerable.Range(0, Shards).Select(i => (RedisKey)$"{key}:{{{i}}}")];

    /// <summary>The one key the index was before it was spread; its members move to their shards as they come due.</summary>
    private readonly RedisKey _unsharded = key;

    public Task ScheduleAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
        ScheduleAsync(ShardOf(member), member, at.ToUnixTimeMilliseconds());

    public async Task<IReadOnlyList<(string Member, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var due = await Task.WhenAll(_shards.Append(_unsharded).Select(k => Timed(metrics, "zrangebyscore",
            () => redis.SortedSetRangeByScoreWithScoresAsync(k, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: limit))));
        // Moved before they are handed out, so what the sweep does next (reschedule, remove) finds them in their shard.
        await Task.WhenAll(due[^1].Select(async e =>
        {
            await ScheduleAsync(ShardOf(e.Element!), e.Element!, (long)e.Score);
            await RemoveAsync(_unsharded, e.Element!, (long)e.Score);
        }));
        return [.. due.SelectMany(d => d).OrderBy(e => e.Score).Take(limit)
            .Select(e => ((string)e.Element!, DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score)))];
    }

    public Task<bool> RemoveAsync(string member, DateTimeOffset at, CancellationToken cancellationToken) =>
        RemoveAsync(ShardOf(member), member, at.ToUnixTimeMilliseconds());

    public async Task<long> CountAsync(CancellationToken cancellationToken) =>
        (await Task.WhenAll(_shards.Append(_unsharded).Select(k => redis.SortedSetLengthAsync(k)))).Sum();

    private RedisKey ShardOf(string member) => _shards[XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(member)) % Shards];

    private Task<bool> ScheduleAsync(RedisKey shard, RedisValue member, long atMs) =>
        Timed(metrics, "zadd", () => redis.SortedSetAddAsync(shard, member, atMs, SortedSetWhen.GreaterThan));

    private async Task<bool> RemoveAsync(RedisKey shard, RedisValue member, long atMs) =>
        (int)await Timed(metrics, "zrem", () => redis.ScriptEvaluateAsync(RemoveIfScore, [shard], [member, atMs])) == 1;
}
