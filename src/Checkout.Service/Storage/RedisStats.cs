using System.Globalization;
using CheckoutService.Observability;
using StackExchange.Redis;

namespace CheckoutService.Storage;

/// <summary>
/// Redis's own counts of expired and evicted keys (INFO stats, summed over the primaries of a
/// Cluster) as metrics, every 15 s: the dashboard's expiry rate, and the eviction alert, since an
/// evicted session is a shopper's lost checkout. Nothing to read in the in-process mode.
/// </summary>
internal sealed class RedisStats(IServiceProvider services, CheckoutMetrics metrics, TimeProvider time, ILogger<RedisStats> logger) : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(15);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!StorageRegistration.UsesRedis(services))
        {
            return;
        }
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        long expired = 0, evicted = 0;
        foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var stats = (await server.InfoAsync("stats")).SelectMany(group => group).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            expired += Read(stats, "expired_keys");
            evicted += Read(stats, "evicted_keys");
        }
        metrics.RedisExpiredKeys.WithLabels(metrics.RedisCluster).IncTo(expired);
        metrics.RedisEvictedKeys.WithLabels(metrics.RedisCluster).IncTo(evicted);
    }

    private static long Read(Dictionary<string, string> stats, string name) =>
        stats.TryGetValue(name, out var value) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
}
