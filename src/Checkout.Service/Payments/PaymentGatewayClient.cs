using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using PaymentGateway.Contracts;

namespace CheckoutService.Payments;

/// <summary>The typed HTTP client for svc-payment-gateway's intents API.</summary>
internal sealed partial class PaymentGatewayClient(HttpClient http, IOptions<CheckoutSettings> settings, ILogger<PaymentGatewayClient> logger) : IPaymentGateway
{
    private static readonly string SourceVersion =
        typeof(PaymentGatewayClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public async Task<PaymentResult> ChargeAsync(PaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var create = await PostAsync(
            "api/v1/intents/create",
            new CreateIntentRequest(request.Amount.Amount, request.Currency, request.PaymentMethodId,
                new IntentMetadata(request.CartId, "guest", request.SessionId)),
            GatewayJson.Default.CreateIntentRequest, GatewayJson.Default.CreateIntentResponse,
            request, request.IdempotencyKey + ":create", cancellationToken);
        if (create.Failure is { } createFailure)
        {
            return createFailure;
        }

        var confirm = await PostAsync(
            "api/v1/intents/confirm",
            new ConfirmIntentRequest(create.Body!.IntentId, settings.Value.PaymentReturnUrl),
            GatewayJson.Default.ConfirmIntentRequest, GatewayJson.Default.ConfirmIntentResponse,
            request, request.IdempotencyKey + ":confirm", cancellationToken);
        if (confirm.Failure is { } confirmFailure)
        {
            return confirmFailure;
        }
        return confirm.Body!.Status == IntentStatus.Succeeded && confirm.Body.ChargeId is { } chargeId
            ? new PaymentResult.Succeeded(confirm.Body.IntentId, chargeId, confirm.StripeRequestId)
            : new PaymentResult.Unavailable($"intent {confirm.Body.IntentId} ended as {confirm.Body.Status}");
    }

    public async Task<bool> VoidAsync(string intentId, string requestId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"api/v1/intents/{Uri.EscapeDataString(intentId)}/void");
        AddHeaders(message, requestId, "void:" + intentId);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogGatewayUnreachable(logger, "void", e.GetType().Name);
            return false;
        }
    }

    private readonly record struct Reply<T>(T? Body, PaymentResult? Failure, string? StripeRequestId);

    private async Task<Reply<TResponse>> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType,
        PaymentRequest payment, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(body, requestType),
        };
        AddHeaders(message, payment.RequestId, idempotencyKey);
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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogGatewayUnreachable(logger, path, e.GetType().Name);
            return new Reply<TResponse>(default, new PaymentResult.Unavailable(e.GetType().Name), null);
        }
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment gateway {Path} answered {StatusCode}")]
    private static partial void LogGatewayFailure(ILogger logger, string path, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment gateway {Path} unreachable: {Failure}")]
    private static partial void LogGatewayUnreachable(ILogger logger, string path, string failure);
}
