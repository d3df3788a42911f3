using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CheckoutService.Observability;

/// <summary>Which kind of a part this process runs (<c>gateway</c>: <c>embedded</c> or <c>remote</c>), registered by the capability that owns the part.</summary>
public sealed record RuntimeMode(string Part, string Mode);

/// <summary><c>/healthz</c>'s body: each store's check, and which kind of each part is in use.</summary>
public sealed record HealthBody(string Status, IReadOnlyDictionary<string, string> Checks, IReadOnlyDictionary<string, string> Modes);

/// <summary>
/// <c>/healthz</c>: liveness and readiness of the stores, 200 when all are up and 503 when one is
/// not. Each capability registers the checks of the stores it owns, so a part that is not in use
/// (Redis in embedded mode) has no check and is never reported as up.
/// </summary>
public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());
        services.AddHealthChecks().AddCheck<ShutdownDrain>("serving");
        // The drain and the server's own stop must fit in the host's shutdown budget.
        services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<CheckoutSettings>>((host, settings) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(settings.Value.ShutdownDrainSeconds + 10));
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(
                new HealthBody(
                    report.Status == HealthStatus.Healthy ? "healthy"
                        : context.RequestServices.GetRequiredService<ShutdownDrain>().Draining ? "draining" : "unhealthy",
                    report.Entries.ToDictionary(e => e.Key, e => e.Value.Status == HealthStatus.Healthy ? "up" : "down"),
                    context.RequestServices.GetServices<RuntimeMode>().ToDictionary(m => m.Part, m => m.Mode)),
                HealthJson.Default.HealthBody),
        });
        return app;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJson : JsonSerializerContext;
