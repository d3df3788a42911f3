using System.Collections.Concurrent;
using CheckoutService.Storage;
using StackExchange.Redis;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>The kinds of shared state every contract test runs against.</summary>
public static class StateBackends
{
    private static readonly ConcurrentDictionary<string, Lazy<ConnectionMultiplexer>> Connections = new();

    public static Func<TimeProvider, IExpiringTables> InMemory => time => new InMemoryTables(time, maxEntries: 1_000_000);

    public static Func<TimeProvider, IExpiringTables> Redis(string url) => time => new RedisTables(Connect(url), time);

    /// <summary>One connection per server for the whole run, configured as the service configures its own.</summary>
    public static ConnectionMultiplexer Connect(string url) =>
        Connections.GetOrAdd(url, u => new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(RedisConnection.Options(u)))).Value;
}
