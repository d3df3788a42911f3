using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace PaymentGateway.Simulator;

/// <summary>
/// The simulator served by Kestrel on a free loopback port inside another process, so the
/// checkout service talks real HTTP to it (timeouts and retries behave as in production)
/// without a second process to start.
/// </summary>
public sealed class EmbeddedGatewaySimulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedGatewaySimulator(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public GatewaySimulator Simulator => _app.Services.GetRequiredService<GatewaySimulator>();

    /// <summary>Its webhooks: set a target to receive them.</summary>
    public WebhookSender Webhooks => _app.Services.GetRequiredService<WebhookSender>();

    /// <summary>Starts the simulator on a free loopback port.</summary>
    /// <param name="configure">Its options: the service token it requires, its latency.</param>
    /// <param name="time">The clock for the ledger's and the call log's timestamps (the host's, so tests can fake it).</param>
    /// <param name="cancellationToken">Gives up starting.</param>
    public static async Task<EmbeddedGatewaySimulator> StartAsync(
        Action<SimulatorOptions>? configure = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddGatewaySimulator(configure, time);
        var app = builder.Build();
        app.MapGatewaySimulator();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmbeddedGatewaySimulator(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
