using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary><c>POST /api/v2/addresses/validate</c> over HTTP: the rules' verdict, its bounds, and its document.</summary>
public sealed class AddressValidationTests : IAsyncDisposable
{
    // A clock standing mid-minute: the rate-limit window does not turn over during a test.
    private readonly CheckoutApp _app = new() { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };

    public AddressValidationTests()
    {
        _app.Settings["SHIPPING_COUNTRIES"] = "US,CA,GB,DE";
        _app.Settings["RATE_LIMIT_ADDRESS_VALIDATIONS_PER_MINUTE"] = "120";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static JsonObject Address(string city, string state, string zip, string country = "US", string line1 = "742 Evergreen Terrace") => new()
    {
        ["line1"] = line1, ["line2"] = "", ["city"] = city, ["state"] = state, ["zip"] = zip, ["country"] = country,
    };

    [Fact]
    public async Task AGoodAddress_IsValid_AndNormalisedAsPublication28Says()
    {
        using var shopper = _app.Shopper();
        var reply = await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate",
            Address("springfield", "Illinois", "62704", line1: "742 Evergreen Terrace North Apartment 5"));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.True((bool)reply.Body!["valid"]!);
        Assert.Equal("742 EVERGREEN TER N APT 5", (string?)reply.Body["normalized"]!["line1"]);
        Assert.Equal("IL", (string?)reply.Body["normalized"]!["state"]);
        Assert.Empty(reply.Body["errors"]!.AsArray());
    }

    [Fact]
    public async Task AZipOfAnotherState_IsAnError_WithTheZipsState_AndAnOddCity_OnlyAWarning()
    {
        using var shopper = _app.Shopper();
        var mismatch = await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate", Address("Springfeld", "CA", "62704"));
        var odd = await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate", Address("Springfeld", "IL", "62704"));
        var unknown = await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate", Address("Springfield", "IL", "00000"));
        var canada = await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate", Address("Ottawa", "ON", "12345", "CA"));

        Assert.False((bool)mismatch.Body!["valid"]!);
        var error = mismatch.Body["errors"]!.AsArray().Single(e => (string?)e!["code"] == "ZIP_STATE_MISMATCH")!;
        Assert.Equal("IL", (string?)error["suggestion"]!["state"]);
        Assert.True((bool)odd.Body!["valid"]!);
        Assert.Equal("CITY_NOT_IN_ZIP", (string?)odd.Body["warnings"]![0]!["code"]);
        Assert.Equal("SPRINGFIELD", (string?)odd.Body["warnings"]![0]!["suggestion"]!["city"]);
        Assert.Contains(unknown.Body!["errors"]!.AsArray(), e => (string?)e!["code"] == "UNKNOWN_ZIP");
        Assert.Contains(canada.Body!["errors"]!.AsArray(), e => (string?)e!["code"] == "INVALID_POSTAL_CODE");
    }

    [Fact]
    public async Task TheLookUp_IsBounded_8KB_And120AMinutePerAddress_AndDocumented()
    {
        using var shopper = _app.Shopper();
        var big = await shopper.SendRawAsync("/api/v2/addresses/validate", $$"""{"line1":"{{new string('x', 9000)}}"}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.Status);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 121; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/addresses/validate", Address("Springfield", "IL", "62704"),
                configure: r => r.Headers.Add("X-Forwarded-For", "203.0.113.120"))).Status);
        }
        Assert.All(statuses.Take(120), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);

        var document = (await shopper.SendAsync(HttpMethod.Get, "/openapi/v1.json", null)).Body!;
        Assert.NotNull(document["paths"]!["/api/v2/addresses/validate"]!["post"]);
    }
}
