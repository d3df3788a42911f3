using System.Security.Cryptography;
using CheckoutService.Edge;
using CheckoutService.RateLimits;
using CheckoutService.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CheckoutService.Analytics;

public sealed record EventsAccepted(int Accepted);

/// <summary>
/// <c>POST /api/v2/analytics/events</c>: the page's funnel events, sent with
/// <c>navigator.sendBeacon</c> (so <c>text/plain</c> is read as well as JSON), checked by name,
/// cleaned of anything that is not in the event's schema, rate-limited, and stored in
/// the outbox for the events relay to publish to <c>checkout.analytics</c>.
/// </summary>
public static class AnalyticsApi
{
    public static IServiceCollection AddAnalytics(this IServiceCollection services) =>
        services.AddApiJson(AnalyticsJson.Default);

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        var settings = app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value;
        app.MapPost("/api/v2/analytics/events", Receive).PerClientPerMinute("analytics", settings.AnalyticsEventsRateLimitPerMinute);
        return app;
    }

    public static async Task<Results<Accepted<EventsAccepted>, ApiError>> Receive(
        HttpRequest request, Database database, Outbox outbox, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (FunnelEvent.Read(BufferedBody.Of(request.HttpContext).Span) is not { } events)
        {
            return ApiError.Of(Errors.InvalidJson.Saying($"Send one event object, or {{\"events\": [...]}} with 1 to {FunnelEvent.MaxEventsPerBeacon}"));
        }
        if (events.Any(e => !FunnelEvent.IsKnown(e["name"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var n) ? n : null)))
        {
            return ApiError.Of(Errors.UnknownEvent);
        }
        var now = time.GetUtcNow();
        await database.WriteAsync(async (connection, transaction) =>
        {
            foreach (var sent in events)
            {
                var eventId = "evt_" + RandomNumberGenerator.GetHexString(16, lowercase: true);
                var clean = FunnelEvent.Clean(sent, eventId, now);
                var key = (string?)clean["cart_id"] ?? (string?)clean["order_id"] ?? "";
                await outbox.AddAsync(connection, transaction,
                    new OutboxEvent(eventId, FunnelEvent.Topic, key, $"{FunnelEvent.Topic}.{clean["name"]}", clean.ToJsonString(), now), cancellationToken);
            }
        }, cancellationToken);
        return TypedResults.Accepted((string?)null, new EventsAccepted(events.Count));
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(EventsAccepted))]
internal sealed partial class AnalyticsJson : System.Text.Json.Serialization.JsonSerializerContext;
