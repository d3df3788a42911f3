using System.Data.Common;
using CheckoutService.Edge;
using CheckoutService.Storage;
using Dapper;
using StackExchange.Redis;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CheckoutService.Observability;

public sealed record HealthBody(string Status, IReadOnlyDictionary<string, string> Checks);

/// <summary><c>/healthz</c>: liveness and readiness of the stores, 200 when all are up and 503 when one is not.</summary>
public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<RedisHealthCheck>("redis");
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(
                new HealthBody(
                    report.Status == HealthStatus.Healthy ? "healthy" : "unhealthy",
                    report.Entries.ToDictionary(e => e.Key, e => e.Value.Status == HealthStatus.Healthy ? "up" : "down")),
                CheckoutJson.Default.HealthBody),
        });
        return app;
    }

    /// <summary>Pings Redis when the service uses it; in-process state is always up.</summary>
    private sealed class RedisHealthCheck(IServiceProvider services) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!StorageRegistration.UsesRedis(services))
            {
                return HealthCheckResult.Healthy("in process");
            }
            try
            {
                var redis = services.GetRequiredService<IConnectionMultiplexer>();
                // On a Cluster every primary must answer: a key on any shard may be needed.
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
