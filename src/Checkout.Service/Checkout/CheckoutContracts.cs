using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;
using FluentValidation;

namespace CheckoutService.Checkout;

public sealed record CheckoutRequest(string? CartId, string? Email, ShippingAddress? ShippingAddress, string? PaymentMethodId);

public sealed record CheckoutResponse(
    string OrderId,
    string ConfirmationToken,
    DateTimeOffset EstimatedDelivery,
    Money TotalCharged,
    string Currency,
    string CheckoutFlow,
    string SessionId)
{
    public const string GuestV2 = "guest_v2";
}

/// <summary>
/// The request's own fields, each checked on its own. Whether an address and a payment method
/// must be in the request depends on the shopper's session, so <see cref="PlaceOrder"/> decides that.
/// </summary>
public sealed class CheckoutRequestValidator : AbstractValidator<CheckoutRequest>
{
    public CheckoutRequestValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;
        RuleFor(r => r.CartId).CartId();
        RuleFor(r => r.Email).Email();
        RuleFor(r => r.ShippingAddress!).SetValidator(new ShippingAddressValidator()).When(r => r.ShippingAddress is not null);
        RuleFor(r => r.PaymentMethodId).PaymentMethodId().When(r => !string.IsNullOrEmpty(r.PaymentMethodId));
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CheckoutRequest))]
[JsonSerializable(typeof(CheckoutResponse))]
internal sealed partial class CheckoutJson : JsonSerializerContext;
