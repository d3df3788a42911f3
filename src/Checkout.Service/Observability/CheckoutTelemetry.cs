using System.Diagnostics;

namespace CheckoutService.Observability;

/// <summary>The service's own spans and their names, as dashboards and alerts name them.</summary>
public static class CheckoutTelemetry
{
    public const string SourceName = "CheckoutService";

    public static readonly ActivitySource Source = new(SourceName,
        typeof(CheckoutTelemetry).Assembly.GetName().Version?.ToString(3));

    public const string CompleteSpan = "checkout.guest.complete";
    public const string PaymentHandoffSpan = "checkout.guest.payment_handoff";

    public const string CartId = "cart_id";
    public const string PaymentMethodType = "payment_method_type";
    public const string RetryCount = "retry_count";
    public const string GatewayResponseTimeMs = "payment_gateway_response_time_ms";
    public const string PaymentIntentId = "payment_intent_id";
    public const string StripeRequestId = "stripe_request_id";

    public const string AttemptStartEvent = "payment_attempt_start";

    /// <summary>The intent waits for the shopper to authenticate (3-D Secure).</summary>
    public const string AuthenticationRequiredEvent = "payment_authentication_required";
    public const string AttemptResultEvent = "payment_attempt_result";
    public const string RetryBackoffEvent = "payment_retry_backoff";
}
