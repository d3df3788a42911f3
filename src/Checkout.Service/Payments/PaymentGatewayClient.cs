using System.Diagnostics;
using System.Net;
using System.Text.Json.Serialization.Metadata;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using PaymentGateway.Contracts;

namespace CheckoutService.Payments;

/// <summary>
/// The typed HTTP client for svc-payment-gateway's intents API. Retries, timeouts and the circuit
/// breaker sit in its handler pipeline (<see cref="GatewayResilience"/>); this class speaks the
/// API and records the checkout.guest.payment_handoff span.
/// </summary>
internal sealed partial class PaymentGatewayClient(
    HttpClient http, GatewayEndpoint endpoint, IOptions<CheckoutSettings> settings, TimeProvider time, ILogger<PaymentGatewayClient> logger) : IPaymentGateway
{
    /// <summary>
    /// Resolved per request, not as the client's BaseAddress: the client is made when the singletons
    /// that hold it are, before the embedded simulator has a port.
    /// </summary>
    private Uri At(string path) => new(endpoint.BaseAddress, path);

    private static readonly string SourceVersion =
        typeof(PaymentGatewayClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public async Task<PaymentResult> ChargeAsync(PaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = CheckoutTelemetry.Source.StartActivity(CheckoutTelemetry.PaymentHandoffSpan, ActivityKind.Client);
        span?.SetTag(CheckoutTelemetry.CartId, request.CartId);
        span?.SetTag(CheckoutTelemetry.PaymentMethodType, PaymentMethodType(request.PaymentMethodId));
        span?.SetTag(CheckoutTelemetry.RetryCount, 0);
        var started = time.GetTimestamp();
        var result = await CreateAndConfirmAsync(request, span, cancellationToken);
        span?.SetTag(CheckoutTelemetry.GatewayResponseTimeMs, (long)time.GetElapsedTime(started).TotalMilliseconds);
        switch (result)
        {
            case PaymentResult.Succeeded paid:
                span?.SetTag(CheckoutTelemetry.StripeRequestId, paid.StripeRequestId);
                span?.SetStatus(ActivityStatusCode.Ok);
                break;
            case PaymentResult.Declined declined:
                span?.SetStatus(ActivityStatusCode.Error, "declined: " + declined.Code);
                break;
            case PaymentResult.RequiresAction:
                span?.AddEvent(new ActivityEvent(CheckoutTelemetry.AuthenticationRequiredEvent));
                break;
            case PaymentResult.Unavailable unavailable:
                span?.SetStatus(ActivityStatusCode.Error, unavailable.Reason);
                break;
        }
        return result;
    }

    private async Task<PaymentResult> CreateAndConfirmAsync(PaymentRequest request, Activity? span, CancellationToken cancellationToken)
    {
        var create = await PostAsync(
            "api/v1/intents/create",
            new CreateIntentRequest(request.Amount.Amount, request.Currency, request.PaymentMethodId,
                new IntentMetadata(request.CartId, "guest", request.SessionId)),
            GatewayJson.Default.CreateIntentRequest, GatewayJson.Default.CreateIntentResponse,
            request.RequestId, request.IdempotencyKey + ":create", cancellationToken);
        if (create.Failure is { } createFailure)
        {
            return createFailure;
        }
        var intent = create.Body!;
        span?.SetTag(CheckoutTelemetry.PaymentIntentId, intent.IntentId);
        LogIntentCreated(logger, intent.IntentId, request.CartId, intent.ClientSecret);

        var confirm = await PostAsync(
            "api/v1/intents/confirm",
            new ConfirmIntentRequest(intent.IntentId, request.ReturnUrl),
            GatewayJson.Default.ConfirmIntentRequest, GatewayJson.Default.ConfirmIntentResponse,
            request.RequestId, request.IdempotencyKey + ":confirm", cancellationToken);
        if (confirm.Failure is { } confirmFailure)
        {
            return confirmFailure;
        }
        // Confirming again answers how the intent stands: charged, or still waiting for its shopper.
        return confirm.Body! switch
        {
            { Status: IntentStatus.Succeeded, ChargeId: { } chargeId } confirmed =>
                new PaymentResult.Succeeded(confirmed.IntentId, chargeId, confirm.StripeRequestId ?? create.StripeRequestId),
            { Status: IntentStatus.RequiresAction, ClientSecret: { } secret, NextAction.RedirectToUrl.Url: { } url } waiting =>
                new PaymentResult.RequiresAction(waiting.IntentId, secret, url),
            var other => new PaymentResult.Unavailable($"intent {other.IntentId} ended as {other.Status}"),
        };
    }

    public async Task<GatewayLookup> FindAsync(string idempotencyKey, string requestId, CancellationToken cancellationToken)
    {
        var createKey = idempotencyKey + ":create";
        using var message = new HttpRequestMessage(HttpMethod.Get, At("api/v1/intents?idempotency_key=" + Uri.EscapeDataString(createKey)));
        AddHeaders(message, requestId, "find:" + createKey);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new GatewayLookup(true, null);
            }
            if (!response.IsSuccessStatusCode
                || await response.Content.ReadFromJsonAsync(GatewayJson.Default.IntentRecord, cancellationToken) is not { } intent)
            {
                return new GatewayLookup(false, null);
            }
            return new GatewayLookup(true, new GatewayIntent(intent.IntentId, intent.Status, intent.Status == IntentStatus.Succeeded, intent.ChargeId));
        }
        catch (Exception e) when (IsNoAnswer(e, cancellationToken))
        {
            LogGatewayUnreachable(logger, "find", e.GetType().Name);
            return new GatewayLookup(false, null);
        }
    }

    public async Task<bool> VoidAsync(string intentId, string requestId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, At($"api/v1/intents/{Uri.EscapeDataString(intentId)}/void"));
        AddHeaders(message, requestId, "void:" + intentId);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (IsNoAnswer(e, cancellationToken))
        {
            LogGatewayUnreachable(logger, "void", e.GetType().Name);
            return false;
        }
    }

    private readonly record struct Reply<T>(T? Body, PaymentResult? Failure, string? StripeRequestId);

    private async Task<Reply<TResponse>> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType,
        string requestId, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, At(path))
        {
            Content = JsonContent.Create(body, requestType),
        };
        AddHeaders(message, requestId, idempotencyKey);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            var stripeRequestId = response.Headers.TryGetValues("X-Stripe-Request-ID", out var ids) ? ids.FirstOrDefault() : null;
            if (response.IsSuccessStatusCode)
            {
                var parsed = await response.Content.ReadFromJsonAsync(responseType, cancellationToken);
                return new Reply<TResponse>(parsed, parsed is null ? new PaymentResult.Unavailable("empty gateway response") : null, stripeRequestId);
            }
            if (response.StatusCode == HttpStatusCode.PaymentRequired)
            {
                var error = await response.Content.ReadFromJsonAsync(GatewayJson.Default.GatewayError, cancellationToken);
                return new Reply<TResponse>(default, new PaymentResult.Declined(error?.DeclineCode ?? error?.Error ?? "card_declined", error?.Message ?? "declined"), stripeRequestId);
            }
            LogGatewayFailure(logger, path, (int)response.StatusCode);
            return new Reply<TResponse>(default, new PaymentResult.Unavailable($"gateway answered {(int)response.StatusCode}"), stripeRequestId);
        }
        catch (Exception e) when (IsNoAnswer(e, cancellationToken))
        {
            LogGatewayUnreachable(logger, path, e.GetType().Name);
            return new Reply<TResponse>(default, new PaymentResult.Unavailable(GatewayResilience.IsBrokenCircuit(e) ? "circuit open" : e.GetType().Name), null);
        }
    }

    /// <summary>The gateway gave no usable answer: unreachable, every attempt timed out, or the breaker is open.</summary>
    private static bool IsNoAnswer(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string PaymentMethodType(string paymentMethodId) =>
        paymentMethodId.Contains("apple_pay", StringComparison.OrdinalIgnoreCase) ? "apple_pay" : "card";

    private void AddHeaders(HttpRequestMessage message, string requestId, string idempotencyKey)
    {
        var headers = message.Headers;
        if (settings.Value.PaymentGatewayServiceToken is { Length: > 0 } token)
        {
            headers.TryAddWithoutValidation("X-Service-Auth", "Bearer " + token);
        }
        headers.TryAddWithoutValidation("X-Request-ID", requestId);
        if (Activity.Current is { } activity)
        {
            headers.TryAddWithoutValidation("X-Trace-ID", activity.TraceId.ToHexString());
        }
        headers.TryAddWithoutValidation("X-Source-Service", "checkout-service");
        headers.TryAddWithoutValidation("X-Source-Version", "v" + SourceVersion);
        headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Created payment intent {IntentId} for cart {CartId} (client secret {ClientSecret})")]
    private static partial void LogIntentCreated(ILogger logger, string intentId, string cartId, [ClientSecret] string clientSecret);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment gateway {Path} answered {StatusCode}")]
    private static partial void LogGatewayFailure(ILogger logger, string path, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment gateway {Path} gave no answer: {Failure}")]
    private static partial void LogGatewayUnreachable(ILogger logger, string path, string failure);
}
