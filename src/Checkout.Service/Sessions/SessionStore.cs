using CheckoutService.Storage;

namespace CheckoutService.Sessions;

/// <summary>
/// Guest sessions under <c>guest:sess:{uuid}</c> with a sliding TTL. Writes are compare-and-set on
/// <see cref="GuestSession.Version"/>: a writer holding an old version loses and re-reads. A
/// session is found only by its id, which its bearer token carries; nothing else leads to it.
/// </summary>
public sealed class SessionStore(IExpiringTables tables, TimeProvider time)
{
    // Session ids already carry the guest:sess: prefix, so the table adds none.
    private readonly IExpiringTable<GuestSession> _sessions = tables.Open("", SessionsJson.Default.GuestSession);

    public Task CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _sessions.ChangeAsync(session.SessionId, _ => Decision<bool, GuestSession>.Write(true, session, time.GetUtcNow() + ttl), cancellationToken);
    }

    public async Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        await _sessions.GetAsync(sessionId, cancellationToken) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null;

    /// <summary>
    /// Applies <paramref name="change"/> to the newest version of the session atomically, with its
    /// version bumped and its TTL reset; on Redis a writer that lost to another tab re-reads and
    /// re-applies. A change that returns null refuses, and the session is returned as it is. Null
    /// when the session is gone.
    /// </summary>
    public Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return _sessions.ChangeAsync(sessionId, entry =>
        {
            if (entry is null)
            {
                return Decision<StoredSession?, GuestSession>.Keep(null);
            }
            if (change(entry.Value) is not { } proposed)
            {
                return Decision<StoredSession?, GuestSession>.Keep(new StoredSession(entry.Value, entry.ExpiresAt));
            }
            var now = time.GetUtcNow();
            var session = proposed with { Version = entry.Value.Version + 1, LastActivity = now };
            return Decision<StoredSession?, GuestSession>.Write(new StoredSession(session, now + ttl), session, now + ttl);
        }, cancellationToken);
    }
}
