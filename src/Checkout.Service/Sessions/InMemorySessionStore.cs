using CheckoutService.Storage;

namespace CheckoutService.Sessions;

internal sealed class InMemorySessionStore(TimeProvider time) : ISessionStore, IExpiringStore
{
    private readonly InMemoryTable<GuestSession> _sessions = new(time);
    private readonly InMemoryTable<string> _sessionByCart = new(time);

    public Task CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var expiresAt = time.GetUtcNow() + ttl;
        _sessions.Change(session.SessionId, _ => new InMemoryTable<GuestSession>.Decision<bool>(true, session, expiresAt));
        _sessionByCart.Change(session.CartId, _ => new InMemoryTable<string>.Decision<bool>(true, session.SessionId, expiresAt));
        return Task.CompletedTask;
    }

    public Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.Get(sessionId) is { } entry ? new StoredSession(entry.Value, entry.ExpiresAt) : null);

    public Task<StoredSession?> FindByCartAsync(string cartId, CancellationToken cancellationToken) =>
        _sessionByCart.Get(cartId) is { } entry ? GetAsync(entry.Value, cancellationToken) : Task.FromResult<StoredSession?>(null);

    public Task<bool> TryReplaceAsync(GuestSession session, long expectedVersion, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var expiresAt = time.GetUtcNow() + ttl;
        var replaced = _sessions.Change(session.SessionId, entry => entry?.Value.Version == expectedVersion
            ? new InMemoryTable<GuestSession>.Decision<bool>(true, session with { Version = expectedVersion + 1 }, expiresAt)
            : new InMemoryTable<GuestSession>.Decision<bool>(false));
        if (replaced)
        {
            // The cart's pointer lives as long as its session, so a look-up by cart never outlives it.
            _sessionByCart.Change(session.CartId, current => current?.Value == session.SessionId
                ? new InMemoryTable<string>.Decision<bool>(true, session.SessionId, expiresAt)
                : new InMemoryTable<string>.Decision<bool>(false));
        }
        return Task.FromResult(replaced);
    }

    public void RemoveExpired()
    {
        _sessions.RemoveExpired();
        _sessionByCart.RemoveExpired();
    }
}
