using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>The whole service on PostgreSQL (DATABASE_URL) instead of SQLite.</summary>
public sealed class PostgresCheckoutTests(PostgresServer postgres) : IAsyncLifetime
{
    private CheckoutApp? _app;

    public async ValueTask InitializeAsync()
    {
        _app = new CheckoutApp();
        _app.Settings["DATABASE_URL"] = await postgres.CreateDatabaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app!.DisposeAsync();
    }

    [Fact]
    public async Task Checkout_OnPostgres_PlacesOneOrderPerCart()
    {
        using var shopper = _app!.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));

        var replies = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Get, "/healthz", null)).Status);
    }
}
