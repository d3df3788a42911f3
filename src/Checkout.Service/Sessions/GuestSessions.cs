using CheckoutService.Checkout;
using Microsoft.Extensions.Options;

namespace CheckoutService.Sessions;

/// <summary>
/// The rules of a guest session: it starts for a live cart, opens only with its token, and every
/// change is an optimistic read-modify-write that renews its TTL.
/// </summary>
public sealed class GuestSessions(ISessionStore store, TimeProvider time, IOptions<CheckoutSettings> settings)
{
    /// <summary>How often a write re-reads and re-applies after losing a race before it gives up with a 409.</summary>
    public const int MaxWriteAttempts = 5;

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

    /// <summary>
    /// Applies <paramref name="change"/> to the newest version of the session, retrying when another
    /// writer (a second tab) got in first; a change that returns null refuses, and the session is
    /// returned as it is. Null when the session is gone; throws <see cref="SessionConflictException"/>
    /// when it kept losing.
    /// </summary>
    public async Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            if (await store.GetAsync(sessionId, cancellationToken) is not { } current)
            {
                return null;
            }
            if (change(current.Session) is not { } proposed)
            {
                return current;
            }
            var now = time.GetUtcNow();
            var changed = proposed with { LastActivity = now };
            if (await store.TryReplaceAsync(changed, current.Session.Version, Ttl, cancellationToken))
            {
                return new StoredSession(changed with { Version = current.Session.Version + 1 }, now + Ttl);
            }
        }
        throw new SessionConflictException(sessionId);
    }
}

public sealed class SessionConflictException(string sessionId)
    : Exception($"Session {sessionId} kept changing under concurrent writers");
