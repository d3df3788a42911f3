using System.Globalization;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CheckoutService.Storage;

/// <summary>
/// Redis's own counts of expired and evicted keys (INFO stats, summed over the primaries of a
/// Cluster) as metrics, every 15 s: the dashboard's expiry rate, and the eviction alert, since an
/// evicted session is a shopper's lost checkout. Nothing to read in the in-process mode. INFO is an
/// admin command to StackExchange.Redis, so it goes over a connection of its own that allows admin
/// commands and is used for nothing else: the shoppers' connection cannot send FLUSHALL by mistake.
/// </summary>
internal sealed class RedisStats(IServiceProvider services, IOptions<CheckoutSettings> settings, CheckoutMetrics metrics, TimeProvider time, ILogger<RedisStats> logger)
    : PeriodicWork(time, logger)
{
    private ConnectionMultiplexer? _admin;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(15);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => RefreshAsync();

    internal async Task RefreshAsync()
    {
        if (!StorageRegistration.UsesRedis(services))
        {
            return;
        }
        if (_admin is null)
        {
            var options = RedisConnection.Options(settings.Value.RedisUrl!);
            options.AllowAdmin = true;
            options.ClientName = "checkout-service-stats";
            _admin = await ConnectionMultiplexer.ConnectAsync(options);
        }
        long expired = 0, evicted = 0;
        foreach (var server in _admin.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var stats = (await server.InfoAsync("stats")).SelectMany(group => group).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            expired += Read(stats, "expired_keys");
            evicted += Read(stats, "evicted_keys");
        }
        metrics.RedisExpiredKeys.WithLabels(metrics.RedisCluster).IncTo(expired);
        metrics.RedisEvictedKeys.WithLabels(metrics.RedisCluster).IncTo(evicted);
    }

    public override void Dispose()
    {
        _admin?.Dispose();
        base.Dispose();
    }

    private static long Read(Dictionary<string, string> stats, string name) =>
        stats.TryGetValue(name, out var value) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
}
