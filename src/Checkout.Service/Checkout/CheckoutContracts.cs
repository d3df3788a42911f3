using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Carts;
using CheckoutService.Edge;
using FluentValidation;
using Microsoft.AspNetCore.Http.Metadata;

namespace CheckoutService.Checkout;

/// <param name="ExpectedTotal">The total the shopper reviewed; the checkout charges it or nothing (docs/decisions/0013).</param>
public sealed record CheckoutRequest(string? CartId, string? Email, ShippingAddress? ShippingAddress, string? PaymentMethodId, decimal? ExpectedTotal = null);

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

/// <summary>How a purchase ended: the order, or why there is none. The API and the page each say it their own way.</summary>
public abstract record PlaceOrderOutcome
{
    private PlaceOrderOutcome()
    {
    }

    /// <param name="Resumed">Placed from the journal after 3-D Secure: by this retry, the webhook or the sweep.</param>
    public sealed record Placed(CheckoutResponse Order, bool Resumed = false) : PlaceOrderOutcome;

    /// <summary>The request's fields that are wrong or missing, all at once.</summary>
    public sealed record Invalid(IReadOnlyList<FieldError> Errors) : PlaceOrderOutcome;

    public sealed record Refused(NamedError Error) : PlaceOrderOutcome;

    /// <summary>The card was refused; <paramref name="DeclineCode"/> is Stripe's reason, which <see cref="Error"/> words for the shopper.</summary>
    public sealed record Declined(string DeclineCode) : PlaceOrderOutcome
    {
        public NamedError Error => Errors.Declined(DeclineCode);
    }

    /// <summary>
    /// The shopper's bank must confirm the payment (3-D Secure). The cart stays held by this purchase:
    /// the shopper completes the challenge at <paramref name="RedirectUrl"/> (or with Stripe.js's
    /// <c>handleNextAction</c> and <paramref name="ClientSecret"/>), then sends the same checkout again.
    /// </summary>
    public sealed record AuthenticationRequired(string PaymentIntentId, string ClientSecret, string RedirectUrl) : PlaceOrderOutcome;

    /// <summary>The cart is not what the shopper reviewed: nothing was charged, and this is the cart as it is now.</summary>
    public sealed record CartChanged(CartView Cart) : PlaceOrderOutcome;
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
        RuleFor(r => r.ExpectedTotal).Must(t => t is >= 0 and <= MaxExpectedTotal && decimal.Round(t.Value, 2) == t.Value)
            .Fails(FieldCodes.InvalidFormat, "Expected total is not an amount", "The total shown to the shopper, in dollars with at most two decimal places, 0 to 999999999.99")
            .When(r => r.ExpectedTotal is not null);
    }

    /// <summary>Far above any cart (50 lines of 99), and small enough to be held in cents.</summary>
    private const decimal MaxExpectedTotal = 999_999_999.99m;
}

/// <summary>What the shopper reviewed, as the request states it: a total, the cart's ETag, or both.</summary>
internal sealed record ReviewedCart(Money? Total, string? IfMatch)
{
    /// <summary>Null when the request states neither, so a client of the seed contract checks out as it always did.</summary>
    public static ReviewedCart? Of(CheckoutRequest request, string? ifMatch) =>
        request.ExpectedTotal is null && string.IsNullOrWhiteSpace(ifMatch)
            ? null
            : new(request.ExpectedTotal is { } total ? Money.FromDecimal(total) : null, string.IsNullOrWhiteSpace(ifMatch) ? null : ifMatch);

    public bool Matches(CartView cart) =>
        (Total is not { } total || total == cart.Subtotal) && (IfMatch is null || CartETag.Matches(IfMatch, cart.Version));
}

public sealed record CartChangedBody(string Error, string Message, IReadOnlyList<CartItemView> Items, Money Total, string Currency, string RequestId);

/// <summary>
/// 409 <c>CART_CHANGED</c>: the cart is not what the shopper reviewed. The body holds the cart as it
/// is now and the <c>ETag</c> names its version, so the client can show it and ask to pay again.
/// </summary>
public sealed class CartChanged(CartView cart) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public CartView Cart { get; } = cart;
    public NamedError Error => Errors.CartChanged(Cart.Subtotal);
    public string Message => Error.Message;
    public int StatusCode => Error.Status;
    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(CartChangedBody), ["application/json"]));
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = StatusCode;
        httpContext.Response.Headers.ETag = CartETag.Of(Cart.Version);
        return httpContext.Response.WriteAsJsonAsync(
            new CartChangedBody(Error.Code, Message, Cart.Items, Cart.Subtotal, Cart.Currency, httpContext.TraceIdentifier),
            CheckoutJson.Default.CartChangedBody);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CheckoutRequest))]
[JsonSerializable(typeof(CheckoutResponse))]
[JsonSerializable(typeof(CartChangedBody))]
internal sealed partial class CheckoutJson : JsonSerializerContext;
