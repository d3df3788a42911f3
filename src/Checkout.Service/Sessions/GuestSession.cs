using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Carts;
using CheckoutService.Edge;

namespace CheckoutService.Sessions;

public static class SessionStatus
{
    public const string Active = "active";
    /// <summary>A checkout is paying with this session; it cannot expire meanwhile.</summary>
    public const string PaymentPending = "payment_pending";
    public const string Completed = "completed";
}

public sealed record CartSnapshot(IReadOnlyList<CartItemView> Items, Money Subtotal, string Currency, long CartVersion)
{
    public static CartSnapshot Of(CartView cart)
    {
        ArgumentNullException.ThrowIfNull(cart);
        return new CartSnapshot(cart.Items, cart.Subtotal, cart.Currency, cart.Version);
    }
}

/// <summary>
/// What the store keeps under <c>guest:sess:{uuid}</c>. Only a hash of the bearer token is kept,
/// so a dump of the store grants nothing. While paying, the session names the checkout's claim on
/// the cart and its lease, so no other checkout takes it over while that one may still pay.
/// </summary>
public sealed record GuestSession(
    string SessionId,
    string CartId,
    string Email,
    byte[] TokenHash,
    CartSnapshot Cart,
    ShippingAddress? ShippingAddress,
    string? PaymentMethodId,
    string? PaymentIntentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastActivity,
    string Status,
    long Version,
    string? CheckoutClaimId = null,
    DateTimeOffset? ClaimExpiresAt = null)
{
    public const string KeyPrefix = "guest:sess:";
}

public sealed record StoredSession(GuestSession Session, DateTimeOffset ExpiresAt);

public sealed record SessionCreated(string SessionId, string SessionToken, DateTimeOffset ExpiresAt, int TtlSeconds);

public sealed record SessionView(
    string SessionId,
    string CartId,
    string Email,
    long TtlRemainingSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastActivity,
    string Status,
    bool ShippingAddressComplete,
    bool PaymentMethodAttached)
{
    public static SessionView Of(StoredSession stored, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var s = stored.Session;
        var remaining = (long)Math.Max(0, Math.Ceiling((stored.ExpiresAt - now).TotalSeconds));
        return new SessionView(s.SessionId, s.CartId, s.Email, remaining, s.CreatedAt, s.LastActivity, s.Status,
            s.ShippingAddress is not null, s.PaymentMethodId is not null);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GuestSession))]
[JsonSerializable(typeof(StartSessionRequest))]
[JsonSerializable(typeof(SaveShippingAddressRequest))]
[JsonSerializable(typeof(SavePaymentMethodRequest))]
[JsonSerializable(typeof(SessionCreated))]
[JsonSerializable(typeof(SessionView))]
internal sealed partial class SessionsJson : JsonSerializerContext;
