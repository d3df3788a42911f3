using Microsoft.Extensions.Options;
using PaymentGateway.Simulator;

namespace CheckoutService.Payments;

internal static class PaymentsRegistration
{
    public static IServiceCollection AddPayments(this IServiceCollection services)
    {
        services.AddSingleton<GatewayEndpoint>();
        services.AddTransient<GatewayAttemptHandler>();
        services.AddHttpClient<IPaymentGateway, PaymentGatewayClient>((provider, http) =>
            {
                http.BaseAddress = provider.GetRequiredService<GatewayEndpoint>().BaseAddress;
                http.Timeout = Timeout.InfiniteTimeSpan; // per attempt and per checkout deadlines are the pipeline's and PlaceOrder's
            })
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
/// Where svc-payment-gateway is: <c>PAYMENT_GATEWAY_URL</c>, or else the simulator started
/// inside this process on a loopback port (and stopped with it).
/// </summary>
internal sealed class GatewayEndpoint : IAsyncDisposable
{
    private readonly EmbeddedGatewaySimulator? _embedded;

    public GatewayEndpoint(IOptions<CheckoutSettings> settings, TimeProvider time)
    {
        if (settings.Value.PaymentGatewayUrl is { Length: > 0 } url)
        {
            BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/");
            return;
        }
        _embedded = EmbeddedGatewaySimulator.Start(o => o.ServiceToken = settings.Value.PaymentGatewayServiceToken, time);
        BaseAddress = _embedded.BaseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The in-process simulator, when there is one (tests read its ledger).</summary>
    public GatewaySimulator? Simulator => _embedded?.Simulator;

    public ValueTask DisposeAsync() => _embedded?.DisposeAsync() ?? ValueTask.CompletedTask;
}
