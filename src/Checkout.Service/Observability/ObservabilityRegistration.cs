using Microsoft.Extensions.Compliance.Classification;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CheckoutService.Observability;

public static class ObservabilityRegistration
{
    /// <summary>
    /// Structured JSON logs with redaction on at every level, OpenTelemetry traces (every
    /// checkout sampled) exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and
    /// Prometheus metrics on <c>METRICS_URL</c>.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
        // The hosting layer's request lines print the whole URL, query string included, where a confirmation
        // token may ride (?confirmation_token=, kept for old clients): they stay off, whatever the configuration says.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // No discriminator: it would append the field name to the value before redaction (u***@example.com:Email).
        builder.Logging.EnableRedaction(o => o.ApplyDiscriminator = false);
        builder.Services.AddRedaction(redaction =>
        {
            redaction.SetRedactor<ClientSecretRedactor>(new DataClassificationSet(CheckoutData.ClientSecret));
            redaction.SetRedactor<SecretRedactor>(new DataClassificationSet(CheckoutData.Secret));
            redaction.SetRedactor<EmailRedactor>(new DataClassificationSet(CheckoutData.Email));
            redaction.SetFallbackRedactor<SecretRedactor>();
        });

        var tracing = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "checkout-service"))
            .WithTracing(traces =>
            {
                traces.SetSampler(new AlwaysOnSampler())
                    .AddSource(CheckoutTelemetry.SourceName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    traces.AddOtlpExporter();
                }
            });
        builder.Services.AddSingleton<CheckoutMetrics>();
        builder.Services.AddSingleton<MetricsEndpoint>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsEndpoint>());
        return builder;
    }
}
