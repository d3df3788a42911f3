using CheckoutService.Edge;

namespace CheckoutService.Payments;

/// <param name="ReturnUrl">Where the shopper's browser comes back to after a 3-D Secure step: the checkout page.</param>
/// <param name="IdempotencyKey">The same for every attempt at paying for the same cart contents with the same card, so no retry can charge twice.</param>
public sealed record PaymentRequest(
    Money Amount,
    string Currency,
    string PaymentMethodId,
    string CartId,
    string SessionId,
    string IdempotencyKey,
    string RequestId,
    string ReturnUrl);

public abstract record PaymentResult
{
    public sealed record Succeeded(string IntentId, string ChargeId, string? StripeRequestId) : PaymentResult;

    /// <summary>The card was refused: terminal, never retried.</summary>
    public sealed record Declined(string Code, string Message) : PaymentResult;

    /// <summary>
    /// The shopper's bank asks them to authenticate (3-D Secure) at <paramref name="RedirectUrl"/>;
    /// nothing is charged until they do. <paramref name="ClientSecret"/> lets Stripe.js show the same step.
    /// </summary>
    public sealed record RequiresAction(string IntentId, string ClientSecret, string RedirectUrl) : PaymentResult;

    /// <summary>The gateway could not be reached or failed; the shopper may retry.</summary>
    public sealed record Unavailable(string Reason) : PaymentResult;
}

/// <summary>What the gateway holds under a purchase's key: the intent, and whether money was taken (by which charge).</summary>
public sealed record GatewayIntent(string IntentId, string Status, bool Charged, string? ChargeId = null);

/// <summary>A look-up's answer: <paramref name="Answered"/> false when the gateway could not say; <paramref name="Intent"/> null when it has none.</summary>
public sealed record GatewayLookup(bool Answered, GatewayIntent? Intent);

/// <summary>svc-payment-gateway: creates and confirms a payment intent for one checkout.</summary>
public interface IPaymentGateway
{
    /// <summary>The intent created for a purchase, by the purchase's key (<see cref="PaymentRequest.IdempotencyKey"/>).</summary>
    Task<GatewayLookup> FindAsync(string idempotencyKey, string requestId, CancellationToken cancellationToken);

    Task<PaymentResult> ChargeAsync(PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>Cancels or refunds an intent whose order could not be kept. False when the gateway did not confirm it.</summary>
    Task<bool> VoidAsync(string intentId, string requestId, CancellationToken cancellationToken);
}
