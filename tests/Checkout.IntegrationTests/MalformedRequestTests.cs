using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>Whatever a client sends, it gets a 4xx in the API's error shape, never a 500.</summary>
public class MalformedRequestTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    private const string Address = """{"line1":"1 Main St","city":"Springfield","state":"IL","zip":"62704","country":"US"}""";

    public static TheoryData<string, string> CheckoutBodies => new()
    {
        { "", "empty body" },
        { " ", "whitespace" },
        { "{", "unclosed object" },
        { "{\"cart_id\":", "truncated" },
        { "{cart_id: \"cart_1\"}", "unquoted key" },
        { "{'cart_id':'cart_1'}", "single quotes" },
        { "{\"cart_id\":\"cart_1\",}", "trailing comma" },
        { "null", "null root" },
        { "[]", "array root" },
        { "[{\"cart_id\":\"cart_1\"}]", "array of objects" },
        { "\"cart_1\"", "string root" },
        { "42", "number root" },
        { "true", "boolean root" },
        { "{}", "empty object" },
        { "{\"cart_id\":null,\"email\":null}", "nulls" },
        { "{\"cart_id\":5,\"email\":\"a@b.co\"}", "number for string" },
        { "{\"cart_id\":true}", "boolean for string" },
        { "{\"cart_id\":[\"cart_1\"]}", "array for string" },
        { "{\"cart_id\":{\"id\":1}}", "object for string" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":\"742 Evergreen\"}", "string for address" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":[1,2]}", "array for address" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"zip\":62704}}", "number for zip" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{}}", "empty address" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":null,\"payment_method_id\":\"pm_1\"}", "null address" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"payment_method_id\":12}", "number for card" },
        { "{\"cart_id\":\"cart_1\",\"cart_id\":\"cart_2\",\"email\":\"a@b.co\"}", "duplicate key" },
        { $"{{\"cart_id\":\"cart_1\",\"email\":\"{new string('a', 5000)}@example.com\"}}", "huge email" },
        { $"{{\"cart_id\":\"cart_{new string('x', 7000)}\",\"email\":\"a@b.co\"}}", "huge cart id" },
        { $"{{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"payment_method_id\":\"pm_{new string('1', 6000)}\"}}", "huge card id" },
        { $"{{\"cart_id\":\"cart_1\",\"pad\":\"{new string(' ', 9000)}\"}}", "over 8 KB" },
        { "{\"cart_id\":\"cart_😀\",\"email\":\"😀@example.com\"}", "emoji" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":\"\\u0000\",\"city\":\"x\",\"state\":\"IL\",\"zip\":\"62704\",\"country\":\"US\"}}", "NUL char" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":\"\\ud800\",\"city\":\"x\",\"state\":\"IL\",\"zip\":\"62704\",\"country\":\"US\"}}", "lone surrogate" },
        { "{\"cart_id\":\"cart_\\u202e1\",\"email\":\"a@b.co\"}", "bidi override" },
        { "{\"cart_id\":\"Ｃart_1\",\"email\":\"ａ@ｂ.co\"}", "full-width letters" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":" + Address + ",\"payment_method_id\":\"\"}", "empty card id" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":{\"p\":{\"q\":1}}}}}}}}}}}}}}}}}}}", "deep nesting" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\"}garbage", "trailing garbage" },
        { "{\"cart_id\":\"cart_1\" \"email\":\"a@b.co\"}", "missing comma" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":\"1 Main\",\"city\":\"x\",\"state\":\"IL\",\"zip\":\"62704\",\"country\":\"US\"},\"payment_method_id\":\"pm_1\"}", "well-formed, unknown cart" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":1e400}}", "number overflow" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":NaN}}", "NaN" },
        { "\u00ef\u00bb\u00bf{\"cart_id\":\"cart_1\"}", "mangled BOM" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"country\":\"us\",\"state\":\"il\",\"line1\":\"x\",\"city\":\"y\",\"zip\":\"62704\"}}", "lower-case codes" },
        { "/* comment */ {\"cart_id\":\"cart_1\"}", "comment" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"a@b.co\",\"shipping_address\":{\"line1\":\"x\",\"city\":\"y\",\"state\":\"IL\",\"zip\":\"62704\",\"country\":\"US\",\"extra\":[1,2,3]}}", "unknown nested field" },
        { "{\"cart_id\":\"cart_1\",\"email\":\"<script>alert(1)</script>@x.com\"}", "script in email" },
        { "{\"cart_id\":\"cart_1'; DROP TABLE orders;--\",\"email\":\"a@b.co\"}", "sql in cart id" },
        { "{\"cart_id\":\"../../etc/passwd\",\"email\":\"a@b.co\"}", "path in cart id" },
    };

    [Theory]
    [MemberData(nameof(CheckoutBodies))]
    public async Task Checkout_MalformedBody_Is4xxInTheSpecsShape(string body, string why)
    {
        using var shopper = app.Shopper();

        var reply = await shopper.SendRawAsync("/api/v2/checkout/guest", body);

        AssertSpecError(reply, why);
    }

    public static TheoryData<string, string, string> OtherEndpoints => new()
    {
        { "/api/v2/carts", "{\"items\":\"many\"}", "items as string" },
        { "/api/v2/carts", "{\"items\":[{\"sku\":\"SKU-MUG-12OZ\",\"quantity\":\"2\"}]}", "quantity as string" },
        { "/api/v2/carts", "{\"items\":[{\"sku\":\"SKU-MUG-12OZ\",\"quantity\":2.5}]}", "fractional quantity" },
        { "/api/v2/carts", "{\"items\":[{\"sku\":\"SKU-MUG-12OZ\",\"quantity\":99999999999}]}", "quantity overflow" },
        { "/api/v2/carts", "[", "broken" },
        { "/api/v2/checkout/guest/session", "{\"cart_id\":\"cart_1\"}", "session without email" },
        { "/api/v2/checkout/guest/session", "{\"cart_id\":1,\"email\":2}", "session wrong types" },
    };

    [Theory]
    [MemberData(nameof(OtherEndpoints))]
    public async Task OtherEndpoints_MalformedBody_Is4xxInTheSpecsShape(string path, string body, string why)
    {
        using var shopper = app.Shopper();
        AssertSpecError(await shopper.SendRawAsync(path, body), why);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Checkout_NotJson_Is415(string contentType)
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendRawAsync("/api/v2/checkout/guest", "{}", contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.Status);
        AssertSpecError(reply, contentType);
    }

    [Fact]
    public async Task Checkout_InvalidUtf8_Is400InvalidJson()
    {
        using var shopper = app.Shopper();
        using var content = new ByteArrayContent([.. "{\"cart_id\":\"cart_1\",\"email\":\""u8, 0xff, 0xfe, .. "@x.co\"}"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var reply = await Reply.ReadAsync(await shopper.Http.PostAsync("/api/v2/checkout/guest", content, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("INVALID_JSON", reply.Error);
    }

    [Fact]
    public async Task UnknownRoute_Is404InTheSpecsShape()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Get, "/api/v2/nothing-here", null);
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("NOT_FOUND", reply.Error);
    }

    [Fact]
    public async Task Checkout_Over8KB_Is413PayloadTooLarge()
    {
        using var shopper = app.Shopper();
        var reply = await shopper.SendRawAsync("/api/v2/checkout/guest", new JsonObject { ["pad"] = new string('x', 9000) }.ToJsonString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", reply.Error);
        Assert.Equal("Request body is larger than 8 KB", (string?)reply.Body!["message"]);
    }

    private static void AssertSpecError(Reply reply, string why)
    {
        Assert.True((int)reply.Status is >= 400 and < 500, $"{why}: got {(int)reply.Status} {reply.Body}");
        Assert.NotNull(reply.Body);
        Assert.Matches("^req_[0-9a-f]{12}$", (string?)reply.Body["request_id"]);
        if (reply.Body["errors"] is JsonArray errors)
        {
            Assert.NotEmpty(errors);
            Assert.All(errors, e =>
            {
                Assert.False(string.IsNullOrEmpty((string?)e!["field"]), why);
                Assert.False(string.IsNullOrEmpty((string?)e["code"]), why);
                Assert.False(string.IsNullOrEmpty((string?)e["message"]), why);
                Assert.NotNull((string?)e["constraint"]);
            });
        }
        else
        {
            Assert.False(string.IsNullOrEmpty((string?)reply.Body["error"]), why);
            Assert.False(string.IsNullOrEmpty((string?)reply.Body["message"]), why);
        }
    }
}
