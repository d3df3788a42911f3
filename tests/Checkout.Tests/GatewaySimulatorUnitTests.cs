using PaymentGateway.Contracts;
using PaymentGateway.Simulator;

namespace CheckoutService.Tests;

/// <summary>The simulator runs for hours under the load tool: what it remembers has a ceiling.</summary>
public class GatewaySimulatorUnitTests
{
    private static CreateIntentRequest Intent(string cartId) => new(10.00m, "USD", "pm_stripe_good", new IntentMetadata(cartId, "guest", null));

    [Fact]
    public void Ledger_KeepsOnlyTheNewestIntents_AndForgetsTheirKeys()
    {
        var simulator = new GatewaySimulator(TimeProvider.System) { MaxIntents = 10 };

        for (var i = 0; i < 25; i++)
        {
            simulator.CreateIntent(Intent("cart_bounded"), $"key-{i}:create");
            simulator.ConfirmIntent(new ConfirmIntentRequest(simulator.FindByIdempotencyKey($"key-{i}:create")!.IntentId, "https://x"), $"key-{i}:confirm");
        }

        var ledger = simulator.Ledger("cart_bounded");
        Assert.Equal(10, ledger.Intents.Count);
        Assert.Equal(10, ledger.Charges);
        Assert.Null(simulator.FindByIdempotencyKey("key-0:create"));
        Assert.Null(simulator.FindByIdempotencyKey("key-0:confirm"));
        Assert.NotNull(simulator.FindByIdempotencyKey("key-24:confirm"));
    }

    [Fact]
    public void CallLog_KeepsOnlyTheNewestCalls()
    {
        var simulator = new GatewaySimulator(TimeProvider.System) { MaxCalls = 10 };

        for (var i = 0; i < 25; i++)
        {
            simulator.Record("/api/v1/intents/create", $"key-{i}", 0, null);
        }

        Assert.Equal(10, simulator.Calls.Count);
        Assert.Equal("key-24", simulator.Calls[^1].IdempotencyKey);
    }
}
