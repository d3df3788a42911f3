using System.Diagnostics;
using System.Net;
using CheckoutService.Observability;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CheckoutService.Payments;

/// <summary>
/// How calls to svc-payment-gateway survive its bad moments:
/// each attempt times out after <c>PAYMENT_GATEWAY_TIMEOUT_MS</c>; 502/503/504, timeouts and
/// connection errors are retried up to <c>PAYMENT_GATEWAY_MAX_RETRIES</c> times at 1 s, 2 s, 4 s
/// (no jitter: one checkout's retries are already spread by its shopper's timing); a decline or
/// any other 4xx is never retried; and a circuit breaker fails fast while the gateway is down,
/// then lets one probe through. Every call carries an idempotency key, so a retry never
/// charges twice.
/// </summary>
internal static class GatewayResilience
{
    /// <summary>Which attempt this is (0 = first); read by <see cref="GatewayAttemptHandler"/>.</summary>
    public static readonly ResiliencePropertyKey<int> Attempt = new("checkout.gateway.attempt");

    /// <summary>Set when the last attempt ended without an answer, so the next one first asks what happened.</summary>
    public static readonly ResiliencePropertyKey<bool> OutcomeUnknown = new("checkout.gateway.outcome-unknown");

    public static IHttpClientBuilder AddGatewayResilience(this IHttpClientBuilder client)
    {
        client.AddResilienceHandler("payment-gateway", (pipeline, context) =>
        {
            var settings = context.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value;
            pipeline.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            pipeline
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = settings.PaymentGatewayMaxRetries,
                    Delay = TimeSpan.FromMilliseconds(settings.PaymentGatewayRetryBaseDelayMs),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = false,
                    ShouldRetryAfterHeader = false,
                    ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                    OnRetry = args =>
                    {
                        args.Context.Properties.Set(Attempt, args.AttemptNumber + 1);
                        args.Context.Properties.Set(OutcomeUnknown, args.Outcome.Exception is TimeoutRejectedException or HttpRequestException);
                        if (Activity.Current is { } span && span.OperationName == CheckoutTelemetry.PaymentHandoffSpan)
                        {
                            span.SetTag(CheckoutTelemetry.RetryCount, (span.GetTagItem(CheckoutTelemetry.RetryCount) as int? ?? 0) + 1);
                            span.AddEvent(new ActivityEvent(CheckoutTelemetry.RetryBackoffEvent, tags: new ActivityTagsCollection
                            {
                                ["wait_duration_ms"] = (long)args.RetryDelay.TotalMilliseconds,
                                ["attempt"] = args.AttemptNumber + 1,
                            }));
                        }
                        return ValueTask.CompletedTask;
                    },
                })
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    // Half the calls failing over 30 s, with at least 8 calls seen (two checkouts' worth of retries).
                    FailureRatio = 0.5,
                    MinimumThroughput = 8,
                    SamplingDuration = TimeSpan.FromSeconds(30),
                    BreakDuration = TimeSpan.FromSeconds(15),
                    ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                })
                .AddTimeout(TimeSpan.FromMilliseconds(settings.PaymentGatewayTimeoutMs));
        });
        return client;
    }

    /// <summary>Worth another try: the gateway (or Stripe behind it) was unavailable, or the attempt got no answer.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException or HttpRequestException } => true,
        { Result.StatusCode: HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } => true,
        _ => false,
    };

    /// <summary>The breaker is open: the gateway is known to be down, so the call was not made.</summary>
    public static bool IsBrokenCircuit(Exception exception) => exception is BrokenCircuitException;
}
