using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using CsCheck;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// Whatever body a client sends to a JSON endpoint, the answer is never a 5xx: random bytes and valid
/// bodies cut short get a 4xx about the body (400, 413, 415 or 422), random JSON values (which may
/// happen to be valid requests) their answer, every error in the API's shape.
/// </summary>
public sealed class AnyBodyPropertyTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    /// <summary>Field names the endpoints know, so random objects reach past the first check; and some they don't.</summary>
    private static readonly Gen<string> Keys = Gen.Frequency(
        (4, Gen.OneOf("cart_id", "email", "items", "sku", "quantity", "shipping_address", "payment_method_id", "line1", "city", "state", "zip",
            "country", "order_id", "confirmation_token", "password", "code", "name", "events", "flow", "section", "id", "type", "data", "object",
            "expected_total")),
        (1, Gen.String[0, 12]));

    private static readonly Gen<string> Leaf = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("false"),
        Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e400"),
        Gen.OneOf(Gen.String[0, 20], Gen.OneOf("cart_abc", "pm_card_visa", "SKU-MUG-12OZ", "a@b.co", "US", "62704", "")).Select(s => JsonSerializer.Serialize(s)));

    private static readonly Gen<string> AnyJson = Gen.Recursive<string>((depth, self) => depth >= 4
        ? Leaf
        : Gen.Frequency(
            (2, Leaf),
            (1, self.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (3, Gen.Select(Keys, self).Array[0, 6].Select(members => "{" + string.Join(",", members.Select(m => JsonSerializer.Serialize(m.Item1) + ":" + m.Item2)) + "}"))));

    private static readonly string[] ValidBodies =
    [
        """{"items":[{"sku":"SKU-MUG-12OZ","quantity":1}]}""",
        """{"cart_id":"cart_abc","email":"a@b.co","shipping_address":{"line1":"1 Main St","city":"Springfield","state":"IL","zip":"62704","country":"US"},"payment_method_id":"pm_card_visa"}""",
        """{"order_id":"ord_abc","confirmation_token":"cnf_abc","password":"correct horse battery staple"}""",
        """{"events":[{"name":"checkout_viewed","cart_id":"cart_abc","flow":"guest_v2"}]}""",
        """{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","amount":100,"amount_refunded":100}}}""",
    ];

    /// <summary>
    /// A body and whether it may be a valid request: random JSON may happen to be one (<c>{"items":[]}</c>
    /// is an empty cart), random bytes and valid bodies cut short never are.
    /// </summary>
    private static readonly Gen<(byte[] Body, bool MayBeValid)> Bodies = Gen.Frequency(
        (3, AnyJson.Select(json => (Encoding.UTF8.GetBytes(json), true))),
        (1, Gen.Byte.Array[0, 64].Select(bytes => (bytes, false))),
        (1, Gen.Int[0, ValidBodies.Length - 1].SelectMany(i => Gen.Int[0, ValidBodies[i].Length - 1].Select(cut => (Encoding.UTF8.GetBytes(ValidBodies[i][..cut]), false)))));

    public static TheoryData<string, string> JsonEndpoints => new()
    {
        { "POST", "/api/v2/carts" },
        { "PUT", "/api/v2/carts/{cart}/items/SKU-MUG-12OZ" },
        { "POST", "/api/v2/checkout/guest/session" },
        { "PUT", "/api/v2/checkout/guest/session/{session}/shipping-address" },
        { "PUT", "/api/v2/checkout/guest/session/{session}/payment-method" },
        { "POST", "/api/v2/checkout/guest" },
        { "POST", "/api/v2/accounts" },
        { "POST", "/api/v2/accounts/acct_0123456789abcdef/verify-email" },
        { "POST", "/api/v2/accounts/sessions" },
        { "POST", "/api/v2/analytics/events" },
        { "POST", "/webhooks/stripe/guest-checkout" },
    };

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task AnyBody_IsRefusedAsABody_NeverA5xx(string method, string route)
    {
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        var path = route.Replace("{cart}", cartId, StringComparison.Ordinal).Replace("{session}", sessionId, StringComparison.Ordinal);
        var client = 0;

        await Bodies.SampleAsync(async sample =>
        {
            var (body, mayBeValid) = sample;
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            // Each sample from its own address through the trusted proxy, so the 10-a-minute limits on accounts never answer first.
            request.Headers.Add("X-Forwarded-For", $"10.9.{Interlocked.Increment(ref client) / 256 % 256}.{client % 256}");
            using var response = await shopper.Http.SendAsync(request);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            var why = $"{method} {route} answered {status} {text} to {Convert.ToHexString(body)} ({Encoding.UTF8.GetString(body)})";
            // A body that cannot be a request is refused as a body; one that may be gets its answer, and a refusal in the API's shape.
            Assert.True(mayBeValid ? status < 500 : status is 400 or 413 or 415 or 422, why);
            if (status >= 400)
            {
                var error = JsonNode.Parse(text)!;
                Assert.True(error["request_id"] is not null && (error["error"] is not null || error["errors"] is not null), why);
            }
        }, iter: 150, threads: 1);
    }

    [Fact]
    public async Task ABeaconWithAKeyTwice_Is400()
    {
        using var shopper = app.Shopper();

        var reply = await shopper.SendRawAsync("/api/v2/analytics/events", """{"name":"checkout_viewed","name":"order_completed"}""", "text/plain");

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("INVALID_JSON", reply.Error);
    }
}
