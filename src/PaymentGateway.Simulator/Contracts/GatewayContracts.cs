using System.Text.Json;
using System.Text.Json.Serialization;

namespace PaymentGateway.Contracts;

// svc-payment-gateway's API as the checkout calls it. Amounts are decimals with cents.

public sealed record IntentMetadata(string CartId, string CheckoutType, string? SessionId);

public sealed record CreateIntentRequest(decimal Amount, string Currency, string PaymentMethodId, IntentMetadata Metadata);

public sealed record CreateIntentResponse(
    string IntentId,
    string Status,
    string ClientSecret,
    decimal Amount,
    string Currency,
    IReadOnlyList<string> PaymentMethodTypes);

public sealed record ConfirmIntentRequest(string IntentId, string ReturnUrl);

/// <summary>
/// The intent after confirm. While 3-D Secure is pending (<see cref="IntentStatus.RequiresAction"/>) it
/// carries the client secret for Stripe.js's <c>handleNextAction</c> and where to send the shopper.
/// </summary>
public sealed record ConfirmIntentResponse(
    string IntentId,
    string Status,
    decimal AmountReceived,
    string Currency,
    string? ChargeId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientSecret = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] NextAction? NextAction = null);

/// <summary>Stripe's <c>next_action</c>: the shopper must visit <see cref="RedirectToUrl"/> to authenticate.</summary>
public sealed record NextAction(string Type, RedirectToUrl RedirectToUrl)
{
    public const string RedirectToUrlType = "redirect_to_url";
}

/// <summary>The challenge page, and the allow-listed page it returns the shopper to.</summary>
public sealed record RedirectToUrl(string Url, string ReturnUrl);

public sealed record GatewayError(
    string Error,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeclineCode = null);

/// <summary>One intent as the simulator's ledger and look-up show it.</summary>
public sealed record IntentRecord(
    string IntentId,
    string IdempotencyKey,
    string CartId,
    decimal Amount,
    string Currency,
    string PaymentMethodId,
    string Status,
    string? ChargeId,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IntentMetadata? Metadata = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReturnUrl = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] GatewayError? LastPaymentError = null);

public sealed record LedgerResponse(string CartId, IReadOnlyList<IntentRecord> Intents, int Charges);

public static class IntentStatus
{
    public const string RequiresConfirmation = "requires_confirmation";
    public const string RequiresPaymentMethod = "requires_payment_method";
    /// <summary>3-D Secure is pending: nothing is charged until the shopper completes the challenge.</summary>
    public const string RequiresAction = "requires_action";
    public const string Succeeded = "succeeded";
    public const string Canceled = "canceled";
    public const string Refunded = "refunded";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CreateIntentRequest))]
[JsonSerializable(typeof(CreateIntentResponse))]
[JsonSerializable(typeof(ConfirmIntentRequest))]
[JsonSerializable(typeof(ConfirmIntentResponse))]
[JsonSerializable(typeof(GatewayError))]
[JsonSerializable(typeof(IntentRecord))]
[JsonSerializable(typeof(LedgerResponse))]
public sealed partial class GatewayJson : JsonSerializerContext;
