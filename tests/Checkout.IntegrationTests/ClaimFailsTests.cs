using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The checkout claims the cart and starts the session paying at the same moment; when the cart's
/// claim fails in the store (its shard failing over), the shopper gets a 503 and the session is
/// theirs again to edit, not stuck paying for a checkout that never ran.
/// </summary>
public sealed class ClaimFailsTests : IAsyncDisposable
{
    private bool _cartWritesFail;
    private readonly CheckoutApp _app;

    public ClaimFailsTests() => _app = new CheckoutApp
    {
        ReplaceServices = services => services.AddSingleton<IExpiringTables>(sp =>
            new FaultyTables(sp.GetRequiredService<InMemoryTables>(), call => _cartWritesFail && call is { Name: "cart:", Writes: true })),
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Checkout_WhoseCartClaimFailsInTheStore_Is503_AndLeavesTheSessionActive()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        _cartWritesFail = true;

        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token);
        var session = await shopper.GetSessionAsync(sessionId, token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Equal("active", (string?)session.Body!["status"]);
        Assert.Empty(_app.Gateway.Ledger(cartId).Intents);
    }
}
