using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CheckoutService.Analytics;

/// <summary>
/// The page's funnel events as the server accepts them: a known name, and only the properties that
/// name may carry, each checked against what it may hold. Anything else is dropped, so no email,
/// address or card number a page might send by mistake is ever stored.
/// </summary>
public static partial class FunnelEvent
{
    public const string Topic = "checkout.analytics";

    public const int MaxEventsPerBeacon = 20;

    private static readonly FrozenSet<string> Sections = FrozenSet.ToFrozenSet(["shipping", "payment", "review"], StringComparer.Ordinal);

    /// <summary>Each event's name and the properties it may carry.</summary>
    private static readonly FrozenDictionary<string, string[]> Schemas = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["checkout_viewed"] = ["cart_id", "flow"],
        ["section_completed"] = ["cart_id", "section"],
        ["validation_error"] = ["cart_id", "section", "field", "code"],
        ["payment_submitted"] = ["cart_id"],
        ["order_completed"] = ["cart_id", "order_id"],
        ["account_created"] = ["order_id"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static bool IsKnown(string? name) => name is not null && Schemas.ContainsKey(name);

    /// <summary>The event as it is stored: its name, its allowed and well-formed properties, and when the server got it.</summary>
    public static JsonObject Clean(JsonObject sent, string eventId, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(sent);
        var name = (string)sent["name"]!;
        var clean = new JsonObject { ["event_id"] = eventId, ["name"] = name, ["received_at"] = receivedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var property in Schemas[name])
        {
            if (sent[property] is JsonValue value && value.TryGetValue<string>(out var text) && IsAllowed(property, text))
            {
                clean[property] = text;
            }
        }
        return clean;
    }

    private static bool IsAllowed(string property, string value) => property switch
    {
        "cart_id" => CartId().IsMatch(value),
        "order_id" => OrderId().IsMatch(value),
        "section" => Sections.Contains(value),
        "flow" => value is "guest_v2" or "legacy",
        "field" => FieldName().IsMatch(value),
        "code" => Code().IsMatch(value),
        _ => false,
    };

    [GeneratedRegex("^cart_[a-z0-9]{1,32}$")]
    private static partial Regex CartId();

    [GeneratedRegex("^ord_[a-z0-9]{1,32}$")]
    private static partial Regex OrderId();

    /// <summary>An API field name (<c>shipping_address.zip</c>), never a value.</summary>
    [GeneratedRegex("^[a-z_]{1,32}(\\.[a-z0-9_]{1,32})?$")]
    private static partial Regex FieldName();

    [GeneratedRegex("^[A-Z_]{1,40}$")]
    private static partial Regex Code();

    /// <summary>
    /// The beacon's events: one object, or <c>{"events":[…]}</c>; null when it is neither. A key twice
    /// in one object is refused while parsing, as the API's other bodies are: a JsonObject meeting it
    /// later throws an ArgumentException, which was a 500.
    /// </summary>
    public static IReadOnlyList<JsonObject>? Read(ReadOnlySpan<byte> body)
    {
        try
        {
            if (JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false }) is not JsonObject root)
            {
                return null;
            }
            if (root["events"] is null)
            {
                return [root];
            }
            return root["events"] is JsonArray { Count: > 0 and <= MaxEventsPerBeacon } many && many.All(e => e is JsonObject)
                ? [.. many.Select(e => (JsonObject)e!)]
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
