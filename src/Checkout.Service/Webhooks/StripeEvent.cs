using System.Text.Json;

namespace CheckoutService.Webhooks;

/// <summary>
/// What the checkout needs of a Stripe event: its id and type, and how to find the order it is
/// about (the confirmation token or order id in the object's metadata, else the payment intent).
/// </summary>
public sealed record StripeEvent(
    string EventId,
    string Type,
    string? PaymentIntentId,
    string? OrderId,
    string? ConfirmationToken,
    long? Amount,
    long? AmountRefunded)
{
    /// <summary>Reads the fields it needs from a verified payload; null when the payload is not an event.</summary>
    public static StripeEvent? Parse(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 32 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "id") is not { } id || Text(root, "type") is not { } type
                || !root.TryGetProperty("data", out var data) || !data.TryGetProperty("object", out var item) || item.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var metadata = item.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            // A payment intent names itself; a charge or a Checkout Session names the intent it belongs to.
            var intentId = Text(item, "object") == "payment_intent" ? Text(item, "id") : Text(item, "payment_intent");
            return new StripeEvent(id, type, intentId, Text(metadata, "order_id"), Text(metadata, "confirmation_token"),
                Number(item, "amount"), Number(item, "amount_refunded"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static long? Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.TryGetInt64(out var number)
            ? number
            : null;
}
