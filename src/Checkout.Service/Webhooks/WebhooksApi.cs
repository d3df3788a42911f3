using System.Text;
using CheckoutService.Edge;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CheckoutService.Webhooks;

public sealed record WebhookReceived(bool Received, bool Duplicate);

/// <summary>
/// <c>POST /webhooks/stripe/guest-checkout</c>: the signature is checked before anything else;
/// a verified event is recorded durably before it is answered, applied at once when its order
/// exists, and otherwise kept until it does.
/// </summary>
public static partial class WebhooksApi
{
    /// <summary>Stripe's events are larger than the API's requests; still bounded.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    public const string Path = "/webhooks/stripe/guest-checkout";

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddApiJson(WebhooksJson.Default);
        services.AddSingleton(sp => new StripeSignature(
            StripeSignature.SecretsOf(sp.GetRequiredService<IOptions<CheckoutSettings>>().Value.StripeWebhookSecret), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<WebhookEventStore>();
        services.AddSingleton<ApplyStripeEvent>();
        services.AddHostedService<UnsettledWebhookEvents>();
        services.AddHostedService<SimulatorWebhooks>();
        return services;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, Receive).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        return app;
    }

    public static async Task<Results<Ok<WebhookReceived>, ApiError>> Receive(
        HttpRequest request, StripeSignature signature, WebhookEventStore events, ApplyStripeEvent apply, TimeProvider time,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var logger = loggers.CreateLogger(typeof(WebhooksApi));
        string payload;
        try
        {
            payload = StrictUtf8.GetString(BufferedBody.Of(request.HttpContext).Span);
        }
        catch (DecoderFallbackException)
        {
            return InvalidSignature();
        }
        if (!signature.IsValid(payload, request.Headers["Stripe-Signature"]))
        {
            return InvalidSignature();
        }
        if (StripeEvent.Parse(payload) is not { } stripeEvent)
        {
            return ApiError.Of(Errors.InvalidEvent);
        }
        if (!await events.TryRecordAsync(stripeEvent, payload, time.GetUtcNow(), cancellationToken))
        {
            return TypedResults.Ok(new WebhookReceived(true, Duplicate: true));
        }
        // Recorded: from here the event is never lost. Applying it now is the fast path; if it fails,
        // or its order is not there yet, the background pass applies it later.
        try
        {
            await SettleAsync(stripeEvent, events, apply, time, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogApplyDeferred(logger, stripeEvent.EventId, e.GetType().Name);
        }
        return TypedResults.Ok(new WebhookReceived(true, Duplicate: false));
    }

    /// <summary>Applies an event and, unless it waits for its order, marks it settled.</summary>
    internal static async Task<EventOutcome> SettleAsync(
        StripeEvent stripeEvent, WebhookEventStore events, ApplyStripeEvent apply, TimeProvider time, CancellationToken cancellationToken)
    {
        var outcome = await apply.ApplyAsync(stripeEvent, cancellationToken);
        if (outcome != EventOutcome.WaitingForOrder)
        {
            await events.SettleAsync(stripeEvent.EventId, outcome == EventOutcome.Applied ? "applied" : "ignored", time.GetUtcNow(), cancellationToken);
        }
        return outcome;
    }

    private static ApiError InvalidSignature() =>
        ApiError.Of(Errors.InvalidSignature);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook event {EventId} is recorded; applying it failed ({Failure}) and is retried in the background")]
    private static partial void LogApplyDeferred(ILogger logger, string eventId, string failure);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(WebhookReceived))]
internal sealed partial class WebhooksJson : System.Text.Json.Serialization.JsonSerializerContext;
