using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Analytics;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>The page's funnel beacons: known names only, no PII kept, rate-limited, stored for the relay.</summary>
public sealed class AnalyticsTests : IAsyncDisposable
{
    private readonly CheckoutApp _app = new() { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private Task<IReadOnlyList<string>> StoredAsync(string cartId) =>
        _app.Services.GetRequiredService<Outbox>().ReadAsync(FunnelEvent.Topic, cartId, CancellationToken.None);

    [Fact]
    public async Task ABeaconAsTextPlain_IsStored_WithOnlyWhatItsSchemaAllows()
    {
        using var shopper = _app.Shopper();
        var beacon = new JsonObject
        {
            ["events"] = new JsonArray(
                new JsonObject { ["name"] = "checkout_viewed", ["cart_id"] = "cart_abc123", ["flow"] = "guest_v2", ["email"] = "bob@example.com" },
                new JsonObject { ["name"] = "validation_error", ["cart_id"] = "cart_abc123", ["section"] = "shipping", ["field"] = "bob@example.com", ["code"] = "INVALID_FORMAT" },
                new JsonObject { ["name"] = "section_completed", ["cart_id"] = "cart_abc123", ["section"] = "shipping", ["shipping_address"] = new JsonObject { ["line1"] = "742 Evergreen Terrace" } }),
        };

        var reply = await shopper.SendRawAsync("/api/v2/analytics/events", beacon.ToJsonString(), "text/plain;charset=UTF-8");

        Assert.Equal(HttpStatusCode.Accepted, reply.Status);
        Assert.Equal(3, (int)reply.Body!["accepted"]!);
        var stored = await StoredAsync("cart_abc123");
        Assert.Equal(["checkout_viewed", "validation_error", "section_completed"], stored.Select(p => (string)JsonNode.Parse(p)!["name"]!));
        Assert.All(stored, p =>
        {
            Assert.DoesNotContain("bob@example.com", p, StringComparison.Ordinal);
            Assert.DoesNotContain("Evergreen", p, StringComparison.Ordinal);
        });
        var error = JsonNode.Parse(stored[1])!;
        Assert.Equal("INVALID_FORMAT", (string?)error["code"]);
        Assert.Null(error["field"]); // a value where a field name belongs is dropped
    }

    [Fact]
    public async Task AnUnknownEventName_Is422_AndNothingIsStored()
    {
        using var shopper = _app.Shopper();
        var beacon = new JsonObject { ["events"] = new JsonArray(
            new JsonObject { ["name"] = "checkout_viewed", ["cart_id"] = "cart_unknown01" },
            new JsonObject { ["name"] = "card_number_typed", ["cart_id"] = "cart_unknown01" }) };

        var reply = await shopper.SendRawAsync("/api/v2/analytics/events", beacon.ToJsonString());

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal("UNKNOWN_EVENT", reply.Error);
        Assert.Empty(await StoredAsync("cart_unknown01"));
    }

    [Fact]
    public async Task Beacons_AreRateLimitedPerIp()
    {
        await using var app = new CheckoutApp { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };
        app.Settings["RATE_LIMIT_ANALYTICS_EVENTS_PER_MINUTE"] = "120";
        using var shopper = app.Shopper();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= 120; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/analytics/events",
                new JsonObject { ["name"] = "payment_submitted", ["cart_id"] = "cart_rate" }, configure: r => r.Headers.Add("X-Forwarded-For", "203.0.113.99"))).Status);
        }

        Assert.All(statuses.Take(120), s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }
}
