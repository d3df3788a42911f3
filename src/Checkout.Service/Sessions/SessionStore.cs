using CheckoutService.Storage;

namespace CheckoutService.Sessions;

/// <summary>
/// Guest sessions under <c>guest:sess:{uuid}</c> with a sliding TTL. Writes are compare-and-set on
/// <see cref="GuestSession.Version"/>: a writer holding an old version loses and re-reads. A
/// session is found only by its id, which its bearer token carries; nothing else leads to it.
/// Every session is also in an expiry index (<c>guest:sess-expiry:{n}</c>), and stays readable for
/// <see cref="KeptAfterExpiry"/> after it expires, so the abandonment sweep can tell of it even after
/// every replica was down for a while.
/// </summary>
public sealed partial class SessionStore(IExpiringTables tables, TimeProvider time, ILogger<SessionStore> logger)
{
    public static readonly TimeSpan KeptAfterExpiry = TimeSpan.FromHours(1);

    // Session ids already carry the guest:sess: prefix, so the table adds none.
    private readonly IExpiringTable<GuestSession> _sessions = tables.Open("", SessionsJson.Default.GuestSession, KeptAfterExpiry);
    private readonly IExpiryIndex _expiries = tables.OpenIndex("guest:sess-expiry");

    public async Task<StoredSession> CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var expiresAt = time.GetUtcNow() + ttl;
        // Indexed and written together: the shopper gets the token only once both landed, so no
        // session anyone can use expires unnoticed. A new id is absent, which spares the write a read.
        await Task.WhenAll(
            _expiries.ScheduleAsync(session.SessionId, expiresAt, cancellationToken),
            _sessions.ChangeAsync(session.SessionId, _ => Decision<bool, GuestSession>.Write(true, session, expiresAt), cancellationToken,
                Seen<GuestSession>.Absent));
        return new StoredSession(session, expiresAt);
    }

    public async Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        await _sessions.GetAsync(sessionId, cancellationToken) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null;

    /// <summary>
    /// Applies <paramref name="change"/> to the newest version of the session atomically, with its
    /// version bumped and its TTL reset; on Redis a writer that lost to another tab re-applies it to
    /// the winner's. A change that returns null refuses, and the session is returned as it is. Null
    /// when the session is gone. <paramref name="seen"/>, the session as the caller last read or wrote
    /// it, saves the change a read.
    /// </summary>
    public async Task<StoredSession?> ChangeAsync(
        string sessionId, Func<GuestSession, GuestSession?> change, TimeSpan ttl, CancellationToken cancellationToken, StoredSession? seen = null)
    {
        ArgumentNullException.ThrowIfNull(change);
        var now = time.GetUtcNow();
        var expiresAt = now + ttl;
        // The index moves with the write, not after it: if the write then loses to another tab, that
        // tab renewed the session at the same moment, and a refused change is one the session no
        // longer needs watching for (completed, or paying and about to complete or resume).
        var scheduled = RescheduleQuietlyAsync(sessionId, expiresAt, cancellationToken);
        var changing = _sessions.ChangeAsync(sessionId, entry =>
        {
            if (entry is null)
            {
                return Decision<StoredSession?, GuestSession>.Keep(null);
            }
            if (change(entry.Value) is not { } proposed)
            {
                return Decision<StoredSession?, GuestSession>.Keep(new StoredSession(entry.Value, entry.ExpiresAt));
            }
            var session = proposed with { Version = entry.Value.Version + 1, LastActivity = now };
            return Decision<StoredSession?, GuestSession>.Write(new StoredSession(session, expiresAt), session, expiresAt);
        }, cancellationToken, seen is null ? null : new Seen<GuestSession>(new Entry<GuestSession>(seen.Session, seen.ExpiresAt)));
        await Task.WhenAll(scheduled, changing);
        return await changing;
    }

    /// <summary>
    /// Moving the index along with a change is a courtesy, not a need: the entry the session already
    /// has falls due early at worst, and the sweep, finding the session renewed, moves it on. So a
    /// shard of the index that is down (a Redis failover) does not fail the shopper's change.
    /// </summary>
    private async Task RescheduleQuietlyAsync(string sessionId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await _expiries.ScheduleAsync(sessionId, at, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogIndexNotMoved(logger, sessionId, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiry index not moved for {SessionId} ({Failure}); the sweep moves it when the old entry falls due")]
    private static partial void LogIndexNotMoved(ILogger logger, string sessionId, string failure);

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
