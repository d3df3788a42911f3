using System.Text.Json;
using System.Text.Json.Serialization;
using PaymentGateway.Contracts;

namespace PaymentGateway.Simulator;

// Stripe's public API shapes, as Stripe.js and a browser see them (amounts in cents).

public sealed record StripeCard(string Brand, string Last4, int ExpMonth, int ExpYear, string Funding);

public sealed record StripeAddress(string PostalCode);

public sealed record StripeBillingDetails(StripeAddress Address);

public sealed record StripePaymentMethod(
    string Id, [property: JsonPropertyName("object")] string Kind, string Type, StripeCard Card, StripeBillingDetails BillingDetails, long Created, bool Livemode)
{
    public static StripePaymentMethod Of(PaymentMethodRecord method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return new(method.Id, "payment_method", "card", new StripeCard(method.Brand, method.Last4, method.ExpMonth, method.ExpYear, "credit"),
            new StripeBillingDetails(new StripeAddress(method.PostalCode)), method.CreatedAt.ToUnixTimeSeconds(), false);
    }
}

public sealed record StripeError(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Param = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeclineCode = null);

public sealed record StripeErrorBody(StripeError Error);

/// <summary>What the page learns about an intent after its challenge: no client secret, no card data.</summary>
public sealed record StripePaymentIntent(
    string Id, [property: JsonPropertyName("object")] string Kind, long Amount, string Currency, string Status, string PaymentMethod,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] StripeError? LastPaymentError)
{
    public static StripePaymentIntent Of(IntentRecord intent)
    {
        ArgumentNullException.ThrowIfNull(intent);
        return new(intent.IntentId, "payment_intent", Cents(intent.Amount), intent.Currency.ToLowerInvariant(), intent.Status, intent.PaymentMethodId,
            intent.LastPaymentError is { } e ? new StripeError("card_error", e.Error, e.Message, null, e.DeclineCode) : null);
    }

    /// <summary>Stripe counts in the currency's smallest unit.</summary>
    public static long Cents(decimal amount) => (long)(amount * 100);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StripePaymentMethod))]
[JsonSerializable(typeof(StripeErrorBody))]
[JsonSerializable(typeof(StripePaymentIntent))]
internal sealed partial class StripeJson : JsonSerializerContext;
