using CheckoutService.Payments;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using PaymentGateway.Simulator;

namespace CheckoutService.Webhooks;

/// <summary>
/// With the embedded simulator and a <c>STRIPE_WEBHOOK_SECRET</c>, the simulator posts its signed
/// webhooks to this service's own endpoint, as Stripe would, once the service is listening.
/// </summary>
internal sealed class SimulatorWebhooks(
    GatewayEndpoint gateway, IServer server, IHostApplicationLifetime lifetime, IOptions<CheckoutSettings> settings) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (gateway.SimulatorWebhooks is { } webhooks && StripeSignature.SecretsOf(settings.Value.StripeWebhookSecret) is [var secret, ..])
        {
            lifetime.ApplicationStarted.Register(() =>
            {
                if (server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } address)
                {
                    webhooks.Target = new WebhookTarget(new Uri(new Uri(address), WebhooksApi.Path), secret);
                }
            });
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
