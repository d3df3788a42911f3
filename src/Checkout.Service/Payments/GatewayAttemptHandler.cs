using System.Diagnostics;
using System.Globalization;
using System.Net;
using CheckoutService.Observability;
using PaymentGateway.Contracts;

namespace CheckoutService.Payments;

/// <summary>
/// Runs inside the retry, once per attempt: marks retries with <c>X-Retry-Attempt</c>, records
/// each attempt on the payment-handoff span, and, when the previous attempt ended without an
/// answer (a timeout, a dropped connection), first asks the gateway what happened under the
/// call's idempotency key: an intent that was created, or a charge that went through, is taken
/// as the answer instead of being asked for again.
/// </summary>
internal sealed class GatewayAttemptHandler(CheckoutMetrics metrics) : DelegatingHandler
{
    public const string RetryAttemptHeader = "X-Retry-Attempt";

    /// <summary>Who is asking, carried over to the look-up; nothing about the original body.</summary>
    private static readonly HashSet<string> IdentityHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Service-Auth", "X-Request-ID", "X-Trace-ID", "X-Source-Service", "X-Source-Version",
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = request.GetResilienceContext();
        var attempt = context?.Properties.GetValue(GatewayResilience.Attempt, 0) ?? 0;
        request.Headers.Remove(RetryAttemptHeader);
        if (attempt > 0)
        {
            request.Headers.TryAddWithoutValidation(RetryAttemptHeader, attempt.ToString(CultureInfo.InvariantCulture));
        }
        var span = Activity.Current is { OperationName: CheckoutTelemetry.PaymentHandoffSpan } current ? current : null;
        span?.AddEvent(new ActivityEvent(CheckoutTelemetry.AttemptStartEvent, tags: new ActivityTagsCollection
        {
            ["attempt"] = attempt,
            ["operation"] = request.RequestUri?.AbsolutePath,
        }));

        if (attempt > 0 && context!.Properties.GetValue(GatewayResilience.OutcomeUnknown, false)
            && await RecoverAsync(request, cancellationToken) is { } recovered)
        {
            span?.AddEvent(Result(attempt, (int)recovered.StatusCode, "recovered by idempotency-key look-up"));
            return recovered;
        }
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            span?.AddEvent(Result(attempt, (int)response.StatusCode, null));
            Count(request, started, response.StatusCode switch
            {
                HttpStatusCode.PaymentRequired => "card_declined",
                HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture),
                _ => null,
            });
            return response;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
        {
            span?.AddEvent(Result(attempt, null, e is OperationCanceledException ? "timeout" : "connection_error"));
            Count(request, started, e is OperationCanceledException ? "timeout" : "network_error");
            throw;
        }
    }

    /// <summary>The attempt's time by operation, and its failure by the error codes the gateway panel tracks.</summary>
    private void Count(HttpRequestMessage request, long started, string? errorCode)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        var operation = path.EndsWith("/confirm", StringComparison.Ordinal) ? "confirm_intent"
            : path.EndsWith("/void", StringComparison.Ordinal) ? "void_intent"
            : request.Method == HttpMethod.Get ? "find_intent" : "create_intent";
        metrics.PaymentGatewayDuration.WithLabels(CheckoutMetrics.GuestV2, operation).Observe(TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        if (errorCode is not null)
        {
            metrics.PaymentIntentErrors.WithLabels(CheckoutMetrics.GuestCheckoutType, errorCode).Inc();
        }
    }

    private static ActivityEvent Result(int attempt, int? statusCode, string? outcome) =>
        new(CheckoutTelemetry.AttemptResultEvent, tags: new ActivityTagsCollection
        {
            ["attempt"] = attempt,
            ["status_code"] = statusCode,
            ["outcome"] = outcome ?? (statusCode is >= 200 and < 300 ? "success" : "failure"),
        });

    /// <summary>The gateway's record of this call, as the answer the lost attempt would have given; null to send it again.</summary>
    private async Task<HttpResponseMessage?> RecoverAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.TryGetValues("Idempotency-Key", out var keys) || request.RequestUri is null)
        {
            return null;
        }
        using var lookup = new HttpRequestMessage(HttpMethod.Get,
            new Uri(request.RequestUri, "/api/v1/intents?idempotency_key=" + Uri.EscapeDataString(keys.First())));
        foreach (var header in request.Headers.Where(h => IdentityHeaders.Contains(h.Key)))
        {
            lookup.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        using var answer = await base.SendAsync(lookup, cancellationToken);
        if (answer.StatusCode != HttpStatusCode.OK
            || await answer.Content.ReadFromJsonAsync(GatewayJson.Default.IntentRecord, cancellationToken) is not { } intent)
        {
            return null;
        }
        var isConfirm = request.RequestUri.AbsolutePath.EndsWith("/confirm", StringComparison.Ordinal);
        if (!isConfirm)
        {
            return Json(new CreateIntentResponse(intent.IntentId, intent.Status, "", intent.Amount, intent.Currency, ["card"]), GatewayJson.Default.CreateIntentResponse);
        }
        return intent.Status == IntentStatus.Succeeded
            ? Json(new ConfirmIntentResponse(intent.IntentId, intent.Status, intent.Amount, intent.Currency, intent.ChargeId), GatewayJson.Default.ConfirmIntentResponse)
            : null;
    }

    private static HttpResponseMessage Json<T>(T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new(HttpStatusCode.OK) { Content = JsonContent.Create(body, type) };
}
