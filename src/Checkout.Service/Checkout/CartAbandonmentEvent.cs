using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Sessions;
using CheckoutService.Storage;

namespace CheckoutService.Checkout;

/// <summary>
/// <c>cart.abandonment</c>: a guest session expired without an order. One per session (its id is
/// derived from the session id), keyed by cart id. It says how far the shopper got and what became
/// of any payment; the email travels hashed and masked, never in clear (docs/decisions/0010).
/// </summary>
public sealed record CartAbandonmentEvent(
    string EventId,
    string EventType,
    string SessionId,
    string CartId,
    CartSnapshot Cart,
    string EmailSha256,
    string EmailMasked,
    string LastStep,
    string PaymentState,
    DateTimeOffset SessionCreatedAt,
    DateTimeOffset LastActivityAt,
    DateTimeOffset ExpiredAt,
    DateTimeOffset OccurredAt)
{
    public const string Topic = "cart.abandonment";

    /// <summary>Never tried to pay, and no card saved.</summary>
    public const string NoPayment = "none";
    /// <summary>A card was saved, no payment was attempted.</summary>
    public const string PaymentMethodSaved = "payment_method_saved";
    /// <summary>Payments were attempted and none held money (declined, or the gateway never created one).</summary>
    public const string Attempted = "attempted";
    /// <summary>A payment held money without an order, and it was voided (or refunded).</summary>
    public const string AuthorizationVoided = "authorization_voided";

    public static OutboxEvent Of(StoredSession expired, string paymentState, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(expired);
        var session = expired.Session;
        var eventId = OutboxEvent.IdFor(Topic, session.SessionId);
        var lastStep = session.PaymentMethodId is not null ? "payment" : session.ShippingAddress is not null ? "shipping" : "email";
        var body = new CartAbandonmentEvent(eventId, Topic, session.SessionId, session.CartId, session.Cart, Sha256.OfEmail(session.Email),
            MaskedEmail.Of(session.Email), lastStep, paymentState, session.CreatedAt, session.LastActivity, expired.ExpiresAt, now);
        return new OutboxEvent(eventId, Topic, session.CartId, Topic, JsonSerializer.Serialize(body, AbandonmentJson.Default.CartAbandonmentEvent), now);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CartAbandonmentEvent))]
internal sealed partial class AbandonmentJson : JsonSerializerContext;
