using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>After the 201, on each database: the order id finds the order, only its confirmation token opens it.</summary>
public abstract class OrderLookupContract : DatabaseContract
{
    private static async Task<(string OrderId, string Token, Reply Placed)> PlaceAsync(ShopperClient shopper)
    {
        var cartId = await shopper.CreateCartAsync(("SKU-SOCKS-3PK", 3), ("SKU-MUG-12OZ", 1));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, email: "Repeat.Buyer@Example.com"));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        return ((string)placed.Body!["order_id"]!, (string)placed.Body["confirmation_token"]!, placed);
    }

    [Fact]
    public async Task TheCreatedLocation_WithTheToken_ShowsTheOrder_WithTheEmailMasked()
    {
        using var shopper = App.Shopper();
        var (orderId, token, placed) = await PlaceAsync(shopper);

        var byHeader = await shopper.SendAsync(HttpMethod.Get, placed.Response.Headers.Location!.ToString(), null, token);
        var byQuery = await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}?confirmation_token={token}", null);

        Assert.Equal(HttpStatusCode.OK, byHeader.Status);
        Assert.Equal(byHeader.Body!.ToJsonString(), byQuery.Body!.ToJsonString());
        var order = byHeader.Body;
        Assert.Equal(orderId, (string?)order["order_id"]);
        Assert.Equal("paid", (string?)order["status"]);
        Assert.Equal(placed.Body!["total_charged"]!.ToJsonString(), order["total_charged"]!.ToJsonString());
        Assert.Equal(2, order["items"]!.AsArray().Count);
        Assert.Equal("R***@Example.com", (string?)order["email"]);
        Assert.Equal("IL", (string?)order["shipping_address"]!["state"]);
        Assert.Equal((string?)placed.Body["estimated_delivery"], (string?)order["estimated_delivery"]);
        Assert.Null(order["confirmation_token"]);
        Assert.Null(order["payment_method_id"]);
    }

    [Fact]
    public async Task AWrongMissingOrAnothersToken_AndAnUnknownId_AreAllTheSame404()
    {
        using var shopper = App.Shopper();
        var (orderId, token, _) = await PlaceAsync(shopper);
        var (_, othersToken, _) = await PlaceAsync(shopper);

        var refusals = new[]
        {
            await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}", null),
            await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}", null, "cnf_wrongtoken00"),
            await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}", null, othersToken),
            await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}?confirmation_token=", null),
            await shopper.SendAsync(HttpMethod.Get, "/api/v2/checkout/guest/orders/ord_doesnotexist", null, token),
        };

        Assert.All(refusals, r =>
        {
            Assert.Equal(HttpStatusCode.NotFound, r.Status);
            Assert.Equal("ORDER_NOT_FOUND", r.Error);
        });
        Assert.Single(refusals.Select(r => ((string?)r.Body!["message"])!.Replace(orderId, "{id}", StringComparison.Ordinal).Replace("ord_doesnotexist", "{id}", StringComparison.Ordinal)).Distinct());
    }
}

public sealed class SqliteOrderLookupTests : OrderLookupContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresOrderLookupTests(PostgresServer postgres) : OrderLookupContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}
