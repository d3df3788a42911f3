using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using PaymentGateway.Simulator;

namespace CheckoutService.Payments;

internal static class PaymentsRegistration
{
    public static IServiceCollection AddPayments(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => GatewayEndpoint.IsValidUrl(s.PaymentGatewayUrl),
                "PAYMENT_GATEWAY_URL must be an absolute http(s) URL, or \"embedded\" for the built-in simulator.")
            .Validate<IHostEnvironment>((s, environment) => !environment.IsProduction() || !string.IsNullOrEmpty(s.PaymentGatewayUrl),
                "PAYMENT_GATEWAY_URL is not set: in Production the service will not take payments through the built-in simulator by accident. "
                + "Set it to svc-payment-gateway's URL, or to \"embedded\" to run the simulator on purpose.")
            // Shoppers come back from their bank to the page this names, never to one a request's Host header names.
            .Validate<IHostEnvironment>((s, environment) => !environment.IsProduction() || GatewayEndpoint.IsEmbeddedUrl(s.PaymentGatewayUrl)
                    || !string.IsNullOrEmpty(s.PaymentReturnUrl),
                "PAYMENT_RETURN_URL is not set: in Production shoppers return from 3-D Secure to the checkout page's public address, which it names.");
        services.AddSingleton<PaymentJournal>();
        services.AddSingleton<GatewayEndpoint>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayEndpoint>());
        services.AddSingleton(sp => new RuntimeMode("gateway", sp.GetRequiredService<GatewayEndpoint>().IsEmbedded ? "embedded" : "remote"));
        services.AddTransient<GatewayAttemptHandler>();
        // The checkout and the charge sweep are singletons that hold this client for the host's life,
        // so the factory never rotates its handler: the connection pool itself retires connections
        // (and so follows DNS), as the HttpClient guidance for long-lived clients says.
        services.AddHttpClient<IPaymentGateway, PaymentGatewayClient>(http =>
                http.Timeout = Timeout.InfiniteTimeSpan) // per attempt and per checkout deadlines are the pipeline's and PlaceOrder's
            .UseSocketsHttpHandler((handler, provider) => handler.PooledConnectionLifetime =
                TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<CheckoutSettings>>().Value.PaymentGatewayConnectionLifetimeSeconds))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddGatewayResilience()
            .AddHttpMessageHandler<GatewayAttemptHandler>()
            // One logging path for gateway calls, through the same redaction as every other log.
            .RemoveAllLoggers()
            .AddExtendedHttpClientLogging(logging =>
            {
                logging.RequestHeadersDataClasses["X-Service-Auth"] = Observability.CheckoutData.Secret;
                logging.RequestHeadersDataClasses["Idempotency-Key"] = Observability.CheckoutData.Secret;
                logging.LogBody = false;
            });
        return services;
    }
}

/// <summary>
/// Where svc-payment-gateway is: <c>PAYMENT_GATEWAY_URL</c>, or the simulator started with the
/// host inside this process on a loopback port (and stopped with it).
/// </summary>
internal sealed class GatewayEndpoint(IOptions<CheckoutSettings> settings, TimeProvider time) : IHostedService, IAsyncDisposable
{
    public const string Embedded = "embedded";

    private EmbeddedGatewaySimulator? _embedded;

    public bool IsEmbedded => IsEmbeddedUrl(settings.Value.PaymentGatewayUrl);

    public static bool IsEmbeddedUrl(string? url) => url is null or "" or Embedded;

    /// <summary>Known once the host has started (the simulator's port is picked then).</summary>
    public Uri BaseAddress => IsEmbedded
        ? _embedded?.BaseAddress ?? throw new InvalidOperationException("The embedded gateway simulator starts with the host.")
        : new Uri(settings.Value.PaymentGatewayUrl!.TrimEnd('/') + "/");

    /// <summary>The in-process simulator, when there is one (tests read its ledger).</summary>
    public GatewaySimulator? Simulator => _embedded?.Simulator;

    /// <summary>The in-process simulator's webhooks, when there is one.</summary>
    public WebhookSender? SimulatorWebhooks => _embedded?.Webhooks;

    public static bool IsValidUrl(string? url) =>
        url is null or "" or Embedded
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsEmbedded)
        {
            _embedded = await EmbeddedGatewaySimulator.StartAsync(o => o.ServiceToken = settings.Value.PaymentGatewayServiceToken, time, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => _embedded?.DisposeAsync() ?? ValueTask.CompletedTask;
}
