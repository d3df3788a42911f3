using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CheckoutService.Storage;

internal static class StorageRegistration
{
    /// <summary>Shared ephemeral state: Redis when <c>REDIS_URL</c> is set, else in process.</summary>
    public static IServiceCollection AddSharedState(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryTables>();
        services.AddHostedService<InMemorySweeper>();
        services.AddSingleton<IConnectionMultiplexer>(sp =>
            ConnectionMultiplexer.Connect(RedisConnection.Options(sp.GetRequiredService<IOptions<CheckoutSettings>>().Value.RedisUrl!)));
        services.AddSingleton<IExpiringTables>(sp => UsesRedis(sp)
            ? new RedisTables(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>())
            : sp.GetRequiredService<InMemoryTables>());
        return services;
    }

    public static bool UsesRedis(IServiceProvider services) =>
        !string.IsNullOrEmpty(services.GetRequiredService<IOptions<CheckoutSettings>>().Value.RedisUrl);
}
