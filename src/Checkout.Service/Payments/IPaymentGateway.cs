using CheckoutService.Edge;

namespace CheckoutService.Payments;

/// <param name="IdempotencyKey">The same for every attempt at paying for the same cart contents with the same card, so no retry can charge twice.</param>
public sealed record PaymentRequest(
    Money Amount,
    string Currency,
    string PaymentMethodId,
    string CartId,
    string SessionId,
    string IdempotencyKey,
    string RequestId);

public abstract record PaymentResult
{
    public sealed record Succeeded(string IntentId, string ChargeId, string? StripeRequestId) : PaymentResult;

    /// <summary>The card was refused: terminal, never retried.</summary>
    public sealed record Declined(string Code, string Message) : PaymentResult;

    /// <summary>The gateway could not be reached or failed; the shopper may retry.</summary>
    public sealed record Unavailable(string Reason) : PaymentResult;
}

/// <summary>svc-payment-gateway: creates and confirms a payment intent for one checkout.</summary>
public interface IPaymentGateway
{
    Task<PaymentResult> ChargeAsync(PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>Cancels or refunds an intent whose order could not be kept. False when the gateway did not confirm it.</summary>
    Task<bool> VoidAsync(string intentId, string requestId, CancellationToken cancellationToken);
}
