using System.Data.Common;
using CheckoutService.Edge;
using CheckoutService.Storage;
using Dapper;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CheckoutService.Observability;

public sealed record HealthBody(string Status, IReadOnlyDictionary<string, string> Checks);

/// <summary><c>/healthz</c>: liveness and readiness of the stores, 200 when all are up and 503 when one is not.</summary>
public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
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
