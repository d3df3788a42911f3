namespace CheckoutService.Sessions;

/// <summary>
/// Guest sessions with a sliding TTL. Writes are compare-and-set on <see cref="GuestSession.Version"/>
/// (WATCH/MULTI/EXEC or a script on Redis): a writer holding an old version loses and re-reads.
/// </summary>
public interface ISessionStore
{
    /// <summary>Stores a new session and makes it the cart's current one.</summary>
    Task CreateAsync(GuestSession session, TimeSpan ttl, CancellationToken cancellationToken);

    Task<StoredSession?> GetAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>The live session most recently started for a cart, if any.</summary>
    Task<StoredSession?> FindByCartAsync(string cartId, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the session if it is still at <paramref name="expectedVersion"/>, with its version
    /// bumped and its TTL reset. False when another writer got there first or it expired.
    /// </summary>
    Task<bool> TryReplaceAsync(GuestSession session, long expectedVersion, TimeSpan ttl, CancellationToken cancellationToken);
}
