using CheckoutService.Checkout;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;

namespace CheckoutService.Sessions;

/// <summary>
/// The rules of a guest session: it starts for a live cart, opens only with its token, and every
/// change is an optimistic read-modify-write that renews its TTL.
/// </summary>
public sealed partial class GuestSessions(SessionStore store, TimeProvider time, IOptions<CheckoutSettings> settings, ILogger<GuestSessions> logger)
{
    private static readonly byte[] NoHash = new byte[32];

    public TimeSpan Ttl => settings.Value.GuestSessionTtl;

    /// <summary>Starts a session for a cart. Checkout starts one itself, already holding the address and card, when the shopper had none.</summary>
    public async Task<(GuestSession Session, string Token)> StartAsync(
        string cartId, CartSnapshot snapshot, string email, CancellationToken cancellationToken,
        ShippingAddress? shippingAddress = null, string? paymentMethodId = null, string status = SessionStatus.Active)
    {
        var now = time.GetUtcNow();
        var sessionId = SessionTokens.NewSessionId();
        var (token, hash) = SessionTokens.Issue(sessionId);
        var session = new GuestSession(sessionId, cartId, email, hash, snapshot, shippingAddress, paymentMethodId, null, now, now, status, 1);
        await store.CreateAsync(session, Ttl, cancellationToken);
        LogSessionStarted(logger, sessionId, cartId, email, token);
        return (session, token);
    }

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

    public Task<StoredSession?> FindByCartAsync(string cartId, CancellationToken cancellationToken) =>
        store.FindByCartAsync(cartId, cancellationToken);

    /// <summary>Applies a change to the newest version of the session and renews its TTL; null when it is gone.</summary>
    public Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, CancellationToken cancellationToken) =>
        store.ChangeAsync(sessionId, change, Ttl, cancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started guest session {SessionId} for cart {CartId}, shopper {Email}, token {SessionToken}")]
    private static partial void LogSessionStarted(ILogger logger, string sessionId, string cartId, [Email] string email, [Secret] string sessionToken);
}
