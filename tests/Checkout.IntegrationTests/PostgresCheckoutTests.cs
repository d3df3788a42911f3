using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using Npgsql;

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

    [Fact]
    public async Task FourReplicasStartingAtOnceOnAnEmptyDatabase_AllStart_AndMigrateOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        var replicas = Enumerable.Range(0, 4).Select(_ => new CheckoutApp()).ToList();
        try
        {
            foreach (var replica in replicas)
            {
                replica.Settings["DATABASE_URL"] = database;
            }

            // Services starts each host: four migrations race on one empty schema.
            await Task.WhenAll(replicas.Select(r => Task.Run(() => r.Services, TestContext.Current.CancellationToken)));

            foreach (var replica in replicas)
            {
                using var shopper = replica.Shopper();
                Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Get, "/healthz", null)).Status);
            }
            await using var connection = new NpgsqlConnection(ConnectionStringOf(database));
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM schema_migrations WHERE version = '0001_orders'", connection);
            Assert.Equal(1L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    private static string ConnectionStringOf(string url)
    {
        var uri = new Uri(url);
        return $"Host={uri.Host};Port={uri.Port};Username=postgres;Database={uri.AbsolutePath.Trim('/')}";
    }
}
