using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>SIGTERM mid-checkout, as Kubernetes stops a pod: not ready first, the payment finishes, then the process exits.</summary>
public sealed class GracefulShutdownTests(PostgresServer postgres)
{
    [Fact]
    public async Task SigtermMidCheckout_TurnsNotReadyAtOnce_FinishesThePayment_ThenExits()
    {
        await using var gateway = await EmbeddedGatewaySimulator.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        gateway.Simulator.Latency = TimeSpan.FromSeconds(2);
        var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["DATABASE_URL"] = await postgres.CreateDatabaseAsync(),
            ["PAYMENT_GATEWAY_URL"] = gateway.BaseAddress.ToString(),
            ["SHUTDOWN_DRAIN_SECONDS"] = "20",
        });
        await using var _ = service;
        using var shopper = new ShopperClient(service.Client());
        using var health = service.Client();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var checkout = shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));
        await gateway.Simulator.WaitForCallAsync(_ => true).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        service.Terminate();

        var draining = await Eventually.TrueAsync(async () => await service.HealthAsync(health) == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5));
        Assert.True(draining, "/healthz did not turn 503 while the checkout was running");
        Assert.False(checkout.IsCompleted, "the checkout ended before the drain was seen");

        var placed = await checkout;
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        Assert.Equal(0, await service.ExitedAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, gateway.Simulator.Ledger(cartId).Charges);
    }
}
