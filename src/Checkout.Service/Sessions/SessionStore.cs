using CheckoutService.Edge;
using CheckoutService.Storage;

namespace CheckoutService.Sessions;

/// <summary>
/// Guest sessions under <c>guest:sess:{uuid}</c> with a sliding TTL, and a pointer from each cart
/// to its newest session (<c>guest:cart:{cart_id}</c>). Writes are compare-and-set on
/// <see cref="GuestSession.Version"/>: a writer holding an old version loses and re-reads.
/// </summary>
public sealed class SessionStore(IExpiringTables tables, TimeProvider time)
{
    // Session ids already carry the guest:sess: prefix, so the table adds none.
    private readonly IExpiringTable<GuestSession> _sessions = tables.Open("", CheckoutJson.Default.GuestSession);
    private readonly IExpiringTable<string> _sessionByCart = tables.Open("guest:cart:", CheckoutJson.Default.String);

    /// <summary>Stores a new session and makes it the cart's current one.</summary>
    public async Task CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var expiresAt = time.GetUtcNow() + ttl;
        await _sessions.ChangeAsync(session.SessionId, _ => Decision<bool, GuestSession>.Write(true, session, expiresAt), cancellationToken);
        await _sessionByCart.ChangeAsync(session.CartId, _ => Decision<bool, string>.Write(true, session.SessionId, expiresAt), cancellationToken);
    }

    public async Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        await _sessions.GetAsync(sessionId, cancellationToken) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null;

    /// <summary>The live session most recently started for a cart, if any.</summary>
    public async Task<StoredSession?> FindByCartAsync(string cartId, CancellationToken cancellationToken) =>
        await _sessionByCart.GetAsync(cartId, cancellationToken) is { } pointer ? await GetAsync(pointer.Value, cancellationToken) : null;

    /// <summary>
    /// Applies <paramref name="change"/> to the newest version of the session atomically, with its
    /// version bumped and its TTL reset; on Redis a writer that lost to another tab re-reads and
    /// re-applies. A change that returns null refuses, and the session is returned as it is. Null
    /// when the session is gone.
    /// </summary>
    public async Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var (changed, written) = await _sessions.ChangeAsync(sessionId, entry =>
        {
            if (entry is null)
            {
                return Decision<(StoredSession?, bool), GuestSession>.Keep((null, false));
            }
            if (change(entry.Value) is not { } proposed)
            {
                return Decision<(StoredSession?, bool), GuestSession>.Keep((new StoredSession(entry.Value, entry.ExpiresAt), false));
            }
            var now = time.GetUtcNow();
            var session = proposed with { Version = entry.Value.Version + 1, LastActivity = now };
            return Decision<(StoredSession?, bool), GuestSession>.Write((new StoredSession(session, now + ttl), true), session, now + ttl);
        }, cancellationToken);
        if (written && changed is not null)
        {
            // The cart's pointer lives as long as its session, so a look-up by cart never outlives it.
            await _sessionByCart.ChangeAsync(changed.Session.CartId, current => current?.Value == sessionId
                ? Decision<bool, string>.Write(true, sessionId, changed.ExpiresAt)
                : Decision<bool, string>.Keep(false), cancellationToken);
        }
        return changed;
    }
}
