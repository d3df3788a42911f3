using System.Data.Common;
using CheckoutService.Edge;
using CheckoutService.Observability;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CheckoutService.Storage;

internal static class StorageRegistration
{
    /// <summary>Shared ephemeral state: Redis when <c>REDIS_URL</c> is set, else in process under a cap.</summary>
    public static IServiceCollection AddSharedState(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => RedisConnection.IsValid(s.RedisUrl), "REDIS_URL must be a redis:// URL or a StackExchange.Redis configuration string.");
        services.AddSingleton(sp => new InMemoryTables(sp.GetRequiredService<TimeProvider>(), Settings(sp).InProcessStoreMaxEntries));
        services.AddHostedService<InMemorySweeper>();
        services.AddSingleton<IConnectionMultiplexer>(sp => ConnectionMultiplexer.Connect(RedisConnection.Options(Settings(sp).RedisUrl!)));
        services.AddSingleton<IExpiringTables>(sp => UsesRedis(sp)
            ? new RedisTables(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<CheckoutMetrics>())
            : sp.GetRequiredService<InMemoryTables>());
        services.AddHostedService<RedisStats>();
        // Antiforgery tokens and cookies must open on every replica: with Redis, the data-protection keys live there.
        services.AddDataProtection().SetApplicationName("checkout-service");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, sp) =>
        {
            if (UsesRedis(sp))
            {
                options.XmlRepository = new RedisXmlRepository(() => sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), "checkout:data-protection-keys");
            }
        });
        services.AddExceptionHandler<StoreFailures>();
        services.AddSingleton(sp => new RuntimeMode("shared_state", UsesRedis(sp) ? "redis" : "in-process"));
        // Only a Redis that is in use has a check: in embedded mode there is nothing to call "redis".
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<CheckoutSettings>>((health, settings) =>
        {
            if (!string.IsNullOrEmpty(settings.Value.RedisUrl))
            {
                health.Registrations.Add(new HealthCheckRegistration("redis",
                    sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()), HealthStatus.Unhealthy, null));
            }
        });
        return services;
    }

    /// <summary>Durable state: SQLite under ./data/ by default, PostgreSQL when <c>DATABASE_URL</c> says so; migrated before traffic.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => Database.IsValidUrl(s.DatabaseUrl), "DATABASE_URL must be a postgres:// URL, an Npgsql connection string or sqlite:PATH.");
        services.AddSingleton(sp => Database.FromUrl(Settings(sp).DatabaseUrl));
        services.AddSingleton<Outbox>();
        services.AddHostedService<MigrateOnStart>();
        services.AddSingleton(sp => new RuntimeMode("database", sp.GetRequiredService<Database>().Kind == DatabaseKind.PostgreSql ? "postgresql" : "sqlite"));
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return services;
    }

    public static bool UsesRedis(IServiceProvider services) => !string.IsNullOrEmpty(Settings(services).RedisUrl);

    private static CheckoutSettings Settings(IServiceProvider services) => services.GetRequiredService<IOptions<CheckoutSettings>>().Value;

    /// <summary>The schema is brought up to date before the service takes traffic.</summary>
    private sealed class MigrateOnStart(Database database, TimeProvider time) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Migrations.ApplyAsync(database, time, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Every primary must answer: on a Cluster a key on any shard may be needed.</summary>
    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var primaries = redis.GetServers().Where(s => !s.IsReplica).ToList();
                if (primaries.Count == 0)
                {
                    return HealthCheckResult.Unhealthy("no Redis primary connected");
                }
                await Task.WhenAll(primaries.Select(s => s.PingAsync()));
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                return HealthCheckResult.Unhealthy("redis unreachable", e);
            }
        }
    }

    private sealed class DatabaseHealthCheck(Database database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                await connection.ExecuteScalarAsync<int>("SELECT 1");
                return HealthCheckResult.Healthy();
            }
            catch (DbException e)
            {
                return HealthCheckResult.Unhealthy("database unreachable", e);
            }
        }
    }
}

/// <summary>The shared store's failures in the API's shape: down or full is a 503 to retry, a lost race a 409.</summary>
internal sealed partial class StoreFailures(ILogger<StoreFailures> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ApiError? error = exception switch
        {
            StoreContentionException => ApiError.Of(Errors.ConcurrentUpdate),
            StoreFullException => Unavailable(exception, retryAfterSeconds: 5),
            _ when RedisConnection.IsOutage(exception) => Unavailable(exception, retryAfterSeconds: 2),
            _ => null,
        };
        if (error is null)
        {
            return false;
        }
        await error.ExecuteAsync(httpContext);
        return true;
    }

    private ApiError Unavailable(Exception exception, int retryAfterSeconds)
    {
        LogStoreUnavailable(logger, exception.GetType().Name, exception.Message);
        return ApiError.Of(Errors.ServiceUnavailable.RetryAfter(retryAfterSeconds));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shared store unavailable: {Failure}: {Detail}")]
    private static partial void LogStoreUnavailable(ILogger logger, string failure, string detail);
}
