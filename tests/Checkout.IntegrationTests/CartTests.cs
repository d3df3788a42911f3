using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

public class CartTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    private static readonly string[] TenSkus =
    [
        "SKU-TEE-BLK-M", "SKU-TEE-WHT-L", "SKU-HOODIE-GRY-M", "SKU-JEANS-IND-32", "SKU-SOCKS-3PK",
        "SKU-CAP-NVY", "SKU-MUG-12OZ", "SKU-BOTTLE-750", "SKU-TOTE-CNV", "SKU-NOTEBOOK-A5",
    ];

    private static Task<Reply> SetQuantityAsync(ShopperClient shopper, string cartId, string sku, int quantity, string? ifMatch = null) =>
        shopper.SendAsync(HttpMethod.Put, $"/api/v2/carts/{cartId}/items/{sku}", new JsonObject { ["quantity"] = quantity },
            configure: r =>
            {
                if (ifMatch is not null)
                {
                    r.Headers.TryAddWithoutValidation("If-Match", ifMatch);
                }
            });

    [Fact]
    public async Task Products_ListTheCatalogueWithPrices()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/api/v2/products", null);
        var products = reply.Body!.AsArray();
        Assert.Equal(20, products.Count);
        Assert.All(products, p => Assert.Equal("USD", (string)p!["currency"]!));
        Assert.Contains(products, p => (string)p!["sku"]! == "SKU-BACKPACK-20L" && p["unit_price"]!.ToJsonString() == "129.50");
    }

    [Fact]
    public async Task CreateCart_PricesComeFromTheCatalogueNotTheClient()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", JsonNode.Parse("""
            {"items":[{"sku":"SKU-SOCKS-3PK","quantity":3,"unit_price":0.01},{"sku":"SKU-BACKPACK-20L","quantity":1}],"subtotal":1}
            """));

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("\"1\"", reply.Header("ETag"));
        Assert.Equal("59.97", reply.Body!["items"]![0]!["line_total"]!.ToJsonString());
        Assert.Equal("189.47", reply.Body["subtotal"]!.ToJsonString());
    }

    [Fact]
    public async Task CreateCart_UnknownSkuAndBadQuantities_AreAllReported()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/carts", JsonNode.Parse("""
            {"items":[{"sku":"SKU-NOPE","quantity":1},{"sku":"SKU-MUG-12OZ","quantity":0},{"sku":"SKU-MUG-12OZ"},null]}
            """));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal(
            [("items[0].sku", "UNKNOWN_SKU"), ("items[1].quantity", "OUT_OF_RANGE"), ("items[2].quantity", "REQUIRED"), ("items[3]", "REQUIRED")],
            reply.FieldErrors);
    }

    [Fact]
    public async Task GetCart_Unknown_Is404WithTheLogsMessage()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/api/v2/carts/cart_doesnotexist", null);
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("Cart cart_doesnotexist does not exist or has expired", (string)reply.Body!["message"]!);
    }

    [Fact]
    public async Task SetQuantity_TenTabsChangingDifferentLinesAtOnce_AllApply()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync();

        var replies = await Task.WhenAll(TenSkus.Select((sku, i) => SetQuantityAsync(shopper, cartId, sku, i + 1)));

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        var cart = (await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!;
        Assert.Equal(11, (int)cart["version"]!);
        Assert.Equal(
            TenSkus.Select((sku, i) => (sku, i + 1)).OrderBy(x => x.sku, StringComparer.Ordinal),
            cart["items"]!.AsArray().Select(i => ((string)i!["sku"]!, (int)i["quantity"]!)).OrderBy(x => x.Item1, StringComparer.Ordinal));
    }

    [Fact]
    public async Task SetQuantity_WithStaleIfMatch_Is409AndWithCurrentIfMatchApplies()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var first = await SetQuantityAsync(shopper, cartId, "SKU-MUG-12OZ", 2, "\"1\"");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("\"2\"", first.Header("ETag"));

        var stale = await SetQuantityAsync(shopper, cartId, "SKU-MUG-12OZ", 5, "\"1\"");

        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Equal("CART_VERSION_CONFLICT", stale.Error);
        Assert.Equal("\"2\"", stale.Header("ETag"));
        var cart = (await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!;
        Assert.Equal(2, (int)cart["items"]![0]!["quantity"]!);
    }

    [Fact]
    public async Task SetQuantity_WithIfMatchStar_AppliesToAnyVersion()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        await SetQuantityAsync(shopper, cartId, "SKU-CAP-NVY", 1);

        var reply = await SetQuantityAsync(shopper, cartId, "SKU-MUG-12OZ", 3, "*");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("\"3\"", reply.Header("ETag"));
    }

    [Fact]
    public async Task SetQuantity_Zero_RemovesTheLine()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1), ("SKU-CAP-NVY", 1));
        var reply = await SetQuantityAsync(shopper, cartId, "SKU-MUG-12OZ", 0);
        Assert.Equal(["SKU-CAP-NVY"], reply.Body!["items"]!.AsArray().Select(i => (string)i!["sku"]!));
        Assert.Equal("22.00", reply.Body["subtotal"]!.ToJsonString());
    }

    [Theory]
    [InlineData("SKU-NOPE", 1, "sku", "UNKNOWN_SKU")]
    [InlineData("SKU-MUG-12OZ", -1, "quantity", "OUT_OF_RANGE")]
    [InlineData("SKU-MUG-12OZ", 100, "quantity", "OUT_OF_RANGE")]
    public async Task SetQuantity_BadSkuOrQuantity_Is422(string sku, int quantity, string field, string code)
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync();
        var reply = await SetQuantityAsync(shopper, cartId, sku, quantity);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal([(field, code)], reply.FieldErrors);
    }

    [Fact]
    public async Task SetQuantity_OnACheckedOutCart_Is409CartCheckedOut()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId))).Status);

        var reply = await SetQuantityAsync(shopper, cartId, "SKU-CAP-NVY", 1);

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Equal("CART_CHECKED_OUT", reply.Error);
    }
}

public class CartExpiryTests(CheckoutAppWithClock app) : IClassFixture<CheckoutAppWithClock>
{
    [Fact]
    public async Task Cart_UntouchedForItsTtl_Expires_AndEachChangeRenewsIt()
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        app.Time.Advance(TimeSpan.FromHours(23));
        await shopper.SendAsync(HttpMethod.Put, $"/api/v2/carts/{cartId}/items/SKU-CAP-NVY", new JsonObject { ["quantity"] = 1 });
        app.Time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(HttpStatusCode.OK, (await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Status);

        app.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var expired = await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null);

        Assert.Equal(HttpStatusCode.NotFound, expired.Status);
        Assert.Equal("CART_NOT_FOUND", expired.Error);
    }
}
