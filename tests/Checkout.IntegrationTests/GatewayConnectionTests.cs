using System.Net;
using CheckoutService.Checkout;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Payments;
using Microsoft.Extensions.DependencyInjection;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The gateway's client is held for the host's life by the checkout and the charge sweep, so it
/// must still move to fresh connections (and see a DNS change): a connection older than
/// <c>PAYMENT_GATEWAY_CONNECTION_LIFETIME_SECONDS</c> is not reused. A proxy in front of the
/// gateway counts the connections.
/// </summary>
public sealed class GatewayConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    private EmbeddedGatewaySimulator _gateway = null!;
    private DelayProxy _proxy = null!;
    private CheckoutApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await EmbeddedGatewaySimulator.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        _proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, _gateway.BaseAddress.Port), TimeSpan.Zero);
        _app = new CheckoutApp();
        _app.Settings["PAYMENT_GATEWAY_URL"] = $"http://127.0.0.1:{_proxy.EndPoint.Port}/";
        _app.Settings["PAYMENT_GATEWAY_CONNECTION_LIFETIME_SECONDS"] = Lifetime.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _proxy.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    private static Task WaitOutTheLifetimeAsync() =>
        Task.Delay(Lifetime + TimeSpan.FromMilliseconds(500), TimeProvider.System, TestContext.Current.CancellationToken);

    private static async Task CheckoutAsync(ShopperClient shopper)
    {
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))).Status);
    }

    [Fact]
    public async Task Checkouts_ReuseAConnection_UntilItOutlivesItsLifetime()
    {
        using var shopper = _app.Shopper();
        await CheckoutAsync(shopper);
        await CheckoutAsync(shopper);
        var pooled = _proxy.Connections;

        await WaitOutTheLifetimeAsync();
        await CheckoutAsync(shopper);

        Assert.Equal(1, pooled);
        Assert.Equal(2, _proxy.Connections);
    }

    [Fact]
    public async Task TheChargeSweep_MovesToANewConnection_AfterTheLifetime()
    {
        using var shopper = _app.Shopper(); // starts the host
        var charges = _app.Services.GetRequiredService<UnorderedCharges>();
        JournalEntry Unknown() => new("gk_" + Guid.NewGuid().ToString("N"), Ids.Cart(), 100, TimeProvider.System.GetUtcNow());

        Assert.Equal("no_intent", await charges.SettleAsync(Unknown(), CancellationToken.None));
        Assert.Equal("no_intent", await charges.SettleAsync(Unknown(), CancellationToken.None));
        var pooled = _proxy.Connections;
        await WaitOutTheLifetimeAsync();
        Assert.Equal("no_intent", await charges.SettleAsync(Unknown(), CancellationToken.None));

        Assert.Equal(1, pooled);
        Assert.Equal(2, _proxy.Connections);
    }
}
