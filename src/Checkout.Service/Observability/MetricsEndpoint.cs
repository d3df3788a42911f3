using Microsoft.Extensions.Options;
using Prometheus;

namespace CheckoutService.Observability;

/// <summary>
/// Serves <c>/metrics</c> on its own listener (<c>METRICS_URL</c>, 127.0.0.1:9090 by default), off
/// the API's port, so the scrape never competes with shoppers and is not exposed with the API.
/// Always the classic text format 0.0.4: an OpenMetrics answer, which Prometheus asks for first,
/// would add <c>_total</c> to every counter and break the dashboards' queries. A port already taken
/// costs the metrics, not the checkout: it is logged and the service runs on.
/// </summary>
public sealed partial class MetricsEndpoint(CheckoutMetrics metrics, IOptions<CheckoutSettings> settings, ILogger<MetricsEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _server;

    /// <summary>Where <c>/metrics</c> is served, once started (the bound port when METRICS_URL asks for port 0).</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var url = settings.Value.MetricsUrl;
        if (string.Equals(url, "off", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var server = builder.Build();
        server.UseMetricServer(options =>
        {
            options.Registry = metrics.Registry;
            options.EnableOpenMetrics = false;
        });
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            LogNotServed(logger, url, e.Message);
            await server.DisposeAsync();
            return;
        }
        _server = server;
        Address = new Uri(server.Urls.First());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Metrics are not served: {Url} could not be bound ({Reason}); the API runs on")]
    private static partial void LogNotServed(ILogger logger, string url, string reason);
}
