using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;

namespace CheckoutService.Sessions;

/// <summary>
/// The rules of a guest session: it starts for a live cart, opens only with its token, and moves
/// through named steps (save a section, begin paying, complete or resume), each an optimistic
/// read-modify-write that renews its TTL. Other capabilities ask for a step; none rewrites a session.
/// </summary>
public sealed partial class GuestSessions(
    SessionStore store, TimeProvider time, IOptions<CheckoutSettings> settings, CheckoutMetrics metrics, ILogger<GuestSessions> logger, ICartOrders? orders = null)
{
    private static readonly byte[] NoHash = new byte[32];

    public TimeSpan Ttl => settings.Value.GuestSessionTtl;

    /// <summary>Starts a session for a cart; the token is shown once, to the shopper who asked.</summary>
    public async Task<(GuestSession Session, string Token)> StartAsync(string cartId, CartSnapshot snapshot, string email, CancellationToken cancellationToken)
    {
        var (stored, token) = await StartAsync(cartId, snapshot, email, null, null, null, cancellationToken);
        return (stored.Session, token);
    }

    /// <summary>For a checkout that came without a session: one that is already paying, for this claim, with the request's address and card.</summary>
    public async Task<StoredSession> StartPayingAsync(
        string cartId, CartSnapshot snapshot, string email, ShippingAddress shippingAddress, string paymentMethodId, CheckoutClaim claim,
        CancellationToken cancellationToken) =>
        (await StartAsync(cartId, snapshot, email, shippingAddress, paymentMethodId, claim, cancellationToken)).Stored;

    /// <summary>
    /// The session the token opens, or null. Unknown, expired, a wrong token or a token for
    /// another session all look the same to the caller, so nothing leaks about which ids exist.
    /// </summary>
    public async Task<StoredSession?> OpenAsync(string? sessionId, string? token, CancellationToken cancellationToken)
    {
        var claimed = SessionTokens.SessionIdOf(token);
        var stored = claimed is not null && (sessionId is null || sessionId == claimed)
            ? await store.GetAsync(claimed, cancellationToken)
            : null;
        // Compare even when there is nothing to compare with, so timing does not tell them apart.
        var matches = SessionTokens.Matches(token ?? "", stored?.Session.TokenHash ?? NoHash);
        return matches && stored is not null ? stored : null;
    }

    /// <summary>Saves the shipping section while the session is still being filled in; otherwise returns it unchanged. <paramref name="session"/> is as the caller opened it.</summary>
    public Task<StoredSession?> SaveShippingAddressAsync(StoredSession session, ShippingAddress address, CancellationToken cancellationToken) =>
        ChangeAsync(session.Session.SessionId, s => s.Status == SessionStatus.Active ? s with { ShippingAddress = address } : null, cancellationToken, session);

    /// <summary>Saves the payment section while the session is still being filled in; otherwise returns it unchanged.</summary>
    public Task<StoredSession?> SavePaymentMethodAsync(StoredSession session, string paymentMethodId, CancellationToken cancellationToken) =>
        ChangeAsync(session.Session.SessionId, s => s.Status == SessionStatus.Active ? s with { PaymentMethodId = paymentMethodId } : null, cancellationToken, session);

    /// <summary>
    /// A checkout starts paying with this session under its claim on the cart: the session holds what
    /// is being bought and with what, and cannot be edited meanwhile. Null when the session is gone,
    /// already completed, or paying for another checkout whose lease still runs.
    /// </summary>
    public async Task<StoredSession?> BeginPaymentAsync(
        StoredSession session, CartSnapshot snapshot, ShippingAddress shippingAddress, string paymentMethodId, CheckoutClaim claim,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(claim);
        var changed = await ChangeAsync(session.Session.SessionId, s =>
            s.Status == SessionStatus.Completed || PaysForAnother(s, claim.Id) ? null : s with
            {
                Status = SessionStatus.PaymentPending,
                Cart = snapshot,
                ShippingAddress = shippingAddress,
                PaymentMethodId = paymentMethodId,
                CheckoutClaimId = claim.Id,
                ClaimExpiresAt = claim.ExpiresAt,
            }, cancellationToken, session);
        return changed?.Session is { Status: SessionStatus.PaymentPending } paying && paying.CheckoutClaimId == claim.Id ? changed : null;
    }

    /// <summary>The payment ended without an order (declined, gateway down): the shopper may edit and try again.</summary>
    public Task ResumeAsync(StoredSession paying, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paying);
        return ResumeAsync(paying.Session.SessionId, paying.Session.CheckoutClaimId, cancellationToken, paying);
    }

    /// <summary>The payment of the checkout holding <paramref name="claimId"/> ended without an order, known by the session's id alone.</summary>
    public Task ResumeAsync(string sessionId, string? claimId, CancellationToken cancellationToken, StoredSession? seen = null) =>
        ChangeAsync(sessionId, s => s.Status == SessionStatus.PaymentPending && s.CheckoutClaimId == claimId
            ? s with { Status = SessionStatus.Active, CheckoutClaimId = null, ClaimExpiresAt = null }
            : null, cancellationToken, seen);

    /// <summary>The order is placed: the session is done and remembers the intent that paid, when it is known.</summary>
    public Task<StoredSession?> CompleteAsync(string sessionId, string? paymentIntentId, CancellationToken cancellationToken, StoredSession? seen = null) =>
        ChangeAsync(sessionId, s => s with
        {
            Status = SessionStatus.Completed,
            PaymentIntentId = paymentIntentId ?? s.PaymentIntentId,
            CheckoutClaimId = null,
            ClaimExpiresAt = null,
        }, cancellationToken, seen);

    /// <summary>
    /// A session still paying may belong to a checkout that placed its order and then lost the
    /// store: the order table settles it, so the shopper does not see a payment that never ends.
    /// </summary>
    public async Task<StoredSession> SettleAsync(StoredSession stored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (stored.Session.Status != SessionStatus.PaymentPending || orders is null
            || await orders.OrderIdOfAsync(stored.Session.CartId, cancellationToken) is null)
        {
            return stored;
        }
        return await CompleteAsync(stored.Session.SessionId, null, cancellationToken) ?? stored;
    }

    /// <summary>Another checkout's claim holds the session and may still be paying.</summary>
    private bool PaysForAnother(GuestSession session, string claimId) =>
        session.Status == SessionStatus.PaymentPending && session.CheckoutClaimId != claimId && session.ClaimExpiresAt > time.GetUtcNow();

    private async Task<(StoredSession Stored, string Token)> StartAsync(
        string cartId, CartSnapshot snapshot, string email, ShippingAddress? shippingAddress, string? paymentMethodId, CheckoutClaim? claim,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessionId = SessionTokens.NewSessionId();
        var (token, hash) = SessionTokens.Issue(sessionId);
        var session = new GuestSession(sessionId, cartId, email, hash, snapshot, shippingAddress, paymentMethodId, null, now, now,
            claim is null ? SessionStatus.Active : SessionStatus.PaymentPending, 1, claim?.Id, claim?.ExpiresAt);
        var stored = await store.CreateAsync(session, Ttl, cancellationToken);
        metrics.CheckoutStarted.WithLabels(CheckoutMetrics.GuestV2, metrics.Region).Inc();
        LogSessionStarted(logger, sessionId, cartId, email, token);
        return (stored, token);
    }

    private Task<StoredSession?> ChangeAsync(
        string sessionId, Func<GuestSession, GuestSession?> change, CancellationToken cancellationToken, StoredSession? seen = null) =>
        store.ChangeAsync(sessionId, change, Ttl, cancellationToken, seen);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started guest session {SessionId} for cart {CartId}, shopper {Email}, token {SessionToken}")]
    private static partial void LogSessionStarted(ILogger logger, string sessionId, string cartId, [Email] string email, [Secret] string sessionToken);
}
