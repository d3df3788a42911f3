using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Contracts;

namespace CheckoutService.IntegrationTests;

/// <summary>Payments that half happen: nothing is marked paid that was not, and nothing is charged twice.</summary>
public sealed class PaymentRecoveryTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private readonly CheckoutApp _app;

    public PaymentRecoveryTests()
    {
        _app = new CheckoutApp { Clock = _clock };
        _app.Settings["GUEST_SESSION_TTL_SECONDS"] = "60";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task ConfirmFailsAfterCreate_NoOrder_ThenTheRetryChargesTheSameIntentOnce()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-BOTTLE-750", 1));
        _app.Gateway.ConfirmsFail = true;

        var failed = await _clock.WhileAdvancingAsync(shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId)));

        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Null(await _app.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None));
        var pending = Assert.Single(_app.Gateway.Ledger(cartId).Intents);
        Assert.Equal(IntentStatus.RequiresConfirmation, pending.Status);

        _app.Gateway.ConfirmsFail = false;
        var retried = await _clock.WhileAdvancingAsync(shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId)));

        Assert.Equal(HttpStatusCode.Created, retried.Status);
        var ledger = _app.Gateway.Ledger(cartId);
        Assert.Equal(pending.IntentId, Assert.Single(ledger.Intents).IntentId);
        Assert.Equal(1, ledger.Charges);
    }

    [Fact]
    public async Task Session_CannotLapseWhileItsPaymentRuns()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        _clock.Advance(TimeSpan.FromSeconds(59)); // one second of the 60 s TTL left

        _app.Gateway.Latency = TimeSpan.FromMilliseconds(300); // real time: every attempt outlives its 8 s once the clock moves
        var running = shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_x_down"), token);
        await _app.Gateway.WaitForCallAsync(c => c.Path.EndsWith("/create", StringComparison.Ordinal))
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal("payment_pending", (string?)(await shopper.GetSessionAsync(sessionId, token)).Body?["status"]);

        // Four 8 s attempts and their backoff: over half a minute, far past the 1 s the session had left.
        var checkout = await _clock.WhileAdvancingAsync(running, TimeSpan.FromSeconds(1), async () =>
            Assert.Equal(HttpStatusCode.OK, (await shopper.GetSessionAsync(sessionId, token)).Status));

        Assert.Equal(HttpStatusCode.BadGateway, checkout.Status);
        Assert.Equal("active", (string?)(await shopper.GetSessionAsync(sessionId, token)).Body!["status"]);
    }
}
