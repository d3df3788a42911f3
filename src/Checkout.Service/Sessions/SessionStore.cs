using CheckoutService.Storage;

namespace CheckoutService.Sessions;

/// <summary>
/// Guest sessions under <c>guest:sess:{uuid}</c> with a sliding TTL. Writes are compare-and-set on
/// <see cref="GuestSession.Version"/>: a writer holding an old version loses and re-reads. A
/// session is found only by its id, which its bearer token carries; nothing else leads to it.
/// Every session is also in an expiry index (<c>guest:sess-expiry</c>), and stays readable for
/// <see cref="KeptAfterExpiry"/> after it expires, so the abandonment sweep can tell of it even after
/// every replica was down for a while.
/// </summary>
public sealed class SessionStore(IExpiringTables tables, TimeProvider time)
{
    public static readonly TimeSpan KeptAfterExpiry = TimeSpan.FromHours(1);

    // Session ids already carry the guest:sess: prefix, so the table adds none.
    private readonly IExpiringTable<GuestSession> _sessions = tables.Open("", SessionsJson.Default.GuestSession, KeptAfterExpiry);
    private readonly IExpiryIndex _expiries = tables.OpenIndex("guest:sess-expiry");

    public async Task CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var expiresAt = time.GetUtcNow() + ttl;
        // Indexed first: a crash between the two leaves an index entry without a session (swept
        // away), never a session that expires unnoticed.
        await _expiries.ScheduleAsync(session.SessionId, expiresAt, cancellationToken);
        await _sessions.ChangeAsync(session.SessionId, _ => Decision<bool, GuestSession>.Write(true, session, expiresAt), cancellationToken);
    }

    public async Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        await _sessions.GetAsync(sessionId, cancellationToken) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null;

    /// <summary>
    /// Applies <paramref name="change"/> to the newest version of the session atomically, with its
    /// version bumped and its TTL reset; on Redis a writer that lost to another tab re-reads and
    /// re-applies. A change that returns null refuses, and the session is returned as it is. Null
    /// when the session is gone.
    /// </summary>
    public async Task<StoredSession?> ChangeAsync(string sessionId, Func<GuestSession, GuestSession?> change, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var changed = await _sessions.ChangeAsync(sessionId, entry =>
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
        // Moved after the write: a crash in between leaves the index early, and the sweep, finding the session renewed, moves it on.
        if (changed is not null)
        {
            await _expiries.ScheduleAsync(sessionId, changed.ExpiresAt, cancellationToken);
        }
        return changed;
    }

    /// <summary>Sessions whose expiry is due by the index, earliest first.</summary>
    public Task<IReadOnlyList<(string SessionId, DateTimeOffset At)>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        _expiries.DueAsync(now, limit, cancellationToken);

    /// <summary>Sessions in the expiry index: live, or expired and not yet swept.</summary>
    public Task<long> CountAsync(CancellationToken cancellationToken) => _expiries.CountAsync(cancellationToken);

    /// <summary>The session even after it expired, while it is kept; null once it is gone.</summary>
    public async Task<StoredSession?> PeekAsync(string sessionId, CancellationToken cancellationToken) =>
        await _sessions.PeekAsync(sessionId, cancellationToken) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null;

    /// <summary>The index entry moves to the session's real expiry: it was renewed after the index looked.</summary>
    public Task RescheduleAsync(string sessionId, DateTimeOffset at, CancellationToken cancellationToken) =>
        _expiries.ScheduleAsync(sessionId, at, cancellationToken);

    /// <summary>An expired session is dealt with: its record and then its index entry go (in that order, so a crash repeats, never skips).</summary>
    public async Task ForgetAsync(string sessionId, DateTimeOffset scheduledAt, CancellationToken cancellationToken)
    {
        await _sessions.PurgeAsync(sessionId, cancellationToken);
        await _expiries.RemoveAsync(sessionId, scheduledAt, cancellationToken);
    }
}
