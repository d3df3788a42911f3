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
    public Task<(GuestSession Session, string Token)> StartAsync(string cartId, CartSnapshot snapshot, string email, CancellationToken cancellationToken) =>
        StartAsync(cartId, snapshot, email, null, null, SessionStatus.Active, cancellationToken);

    /// <summary>For a checkout that came without a session: one that is already paying with the request's address and card.</summary>
    public async Task<GuestSession> StartPayingAsync(
        string cartId, CartSnapshot snapshot, string email, ShippingAddress shippingAddress, string paymentMethodId, CancellationToken cancellationToken) =>
        (await StartAsync(cartId, snapshot, email, shippingAddress, paymentMethodId, SessionStatus.PaymentPending, cancellationToken)).Session;

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

    /// <summary>Saves the shipping section while the session is still being filled in; otherwise returns it unchanged.</summary>
    public Task<StoredSession?> SaveShippingAddressAsync(string sessionId, ShippingAddress address, CancellationToken cancellationToken) =>
        ChangeAsync(sessionId, s => s.Status == SessionStatus.Active ? s with { ShippingAddress = address } : null, cancellationToken);

    /// <summary>Saves the payment section while the session is still being filled in; otherwise returns it unchanged.</summary>
    public Task<StoredSession?> SavePaymentMethodAsync(string sessionId, string paymentMethodId, CancellationToken cancellationToken) =>
        ChangeAsync(sessionId, s => s.Status == SessionStatus.Active ? s with { PaymentMethodId = paymentMethodId } : null, cancellationToken);

    /// <summary>
    /// A checkout starts paying with this session: it holds what is being bought and with what, and
    /// cannot be edited meanwhile. Null when the session is gone or already completed.
    /// </summary>
    public async Task<GuestSession?> BeginPaymentAsync(
        string sessionId, CartSnapshot snapshot, ShippingAddress shippingAddress, string paymentMethodId, CancellationToken cancellationToken)
    {
        var changed = await ChangeAsync(sessionId, s => s.Status == SessionStatus.Completed ? null : s with
        {
            Status = SessionStatus.PaymentPending,
            Cart = snapshot,
            ShippingAddress = shippingAddress,
            PaymentMethodId = paymentMethodId,
        }, cancellationToken);
        return changed?.Session.Status == SessionStatus.PaymentPending ? changed.Session : null;
    }

    /// <summary>The payment ended without an order (declined, gateway down): the shopper may edit and try again.</summary>
    public Task ResumeAsync(string sessionId, CancellationToken cancellationToken) =>
        ChangeAsync(sessionId, s => s.Status == SessionStatus.PaymentPending ? s with { Status = SessionStatus.Active } : null, cancellationToken);

    /// <summary>The order is placed: the session is done and remembers the intent that paid, when it is known.</summary>
    public Task<StoredSession?> CompleteAsync(string sessionId, string? paymentIntentId, CancellationToken cancellationToken) =>
        ChangeAsync(sessionId, s => s with { Status = SessionStatus.Completed, PaymentIntentId = paymentIntentId ?? s.PaymentIntentId }, cancellationToken);

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

    private async Task<(GuestSession Session, string Token)> StartAsync(
        string cartId, CartSnapshot snapshot, string email, ShippingAddress? shippingAddress, string? paymentMethodId, string status,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessionId = SessionTokens.NewSessionId();
        var (token, hash) = SessionTokens.Issue(sessionId);
        var session = new GuestSession(sessionId, cartId, email, hash, snapshot, shippingAddress, paymentMethodId, null, now, now, status, 1);
        await store.CreateAsync(session, Ttl, cancellationToken);
        metrics.CheckoutStarted.WithLabels(CheckoutMetrics.GuestV2, metrics.Region).Inc();
        LogSessionStarted(logger, sessionId, cartId, email, token);
        return (session, token);
    }

    private Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, CancellationToken cancellationToken) =>
        store.ChangeAsync(sessionId, change, Ttl, cancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started guest session {SessionId} for cart {CartId}, shopper {Email}, token {SessionToken}")]
    private static partial void LogSessionStarted(ILogger logger, string sessionId, string cartId, [Email] string email, [Secret] string sessionToken);
}
