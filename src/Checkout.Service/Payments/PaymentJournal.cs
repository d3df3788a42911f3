using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Payments;

/// <summary>A purchase written down before its intent exists: the gateway key it is made under.</summary>
public sealed record JournalEntry(string IdempotencyKey, string CartId, long AmountCents, DateTimeOffset StartedAt);

/// <summary>
/// A purchase waiting for its shopper to authenticate (3-D Secure): the intent it waits on, until
/// when, and the order it becomes (<paramref name="PendingOrder"/>, as the checkout wrote it), with
/// how it ended once it did (<paramref name="Outcome"/>, null while it waits).
/// </summary>
public sealed record AwaitingPurchase(JournalEntry Entry, string IntentId, DateTimeOffset AwaitingUntil, string PendingOrder, string? Outcome);

/// <summary>
/// The payment journal in the durable store. A purchase is entered before the gateway is asked to
/// create its intent; a retry of the same purchase (same key) enters it again as just started, so
/// the sweep never judges a payment that is still running.
/// </summary>
public sealed class PaymentJournal(Database database)
{
    public async Task StartAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO payment_journal (idempotency_key, cart_id, amount_cents, started_at) VALUES (@IdempotencyKey, @CartId, @AmountCents, @At) " +
            "ON CONFLICT (idempotency_key) DO UPDATE SET started_at = excluded.started_at, settled_at = NULL, outcome = NULL",
            new { entry.IdempotencyKey, entry.CartId, entry.AmountCents, At = database.Time(entry.StartedAt) }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
    }

    public async Task SettleAsync(string idempotencyKey, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payment_journal SET settled_at = @At, outcome = @outcome WHERE idempotency_key = @idempotencyKey",
            new { idempotencyKey, outcome, At = database.Time(at) }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
    }

    /// <summary>The purchase now waits for its shopper to authenticate; what its order needs is kept with it.</summary>
    public async Task AwaitAuthenticationAsync(string idempotencyKey, string intentId, DateTimeOffset until, string pendingOrder, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payment_journal SET intent_id = @intentId, awaiting_until = @Until, pending_order = @pendingOrder, settled_at = NULL, outcome = NULL " +
            "WHERE idempotency_key = @idempotencyKey",
            new { idempotencyKey, intentId, Until = database.Time(until), pendingOrder }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
    }

    /// <summary>Purchases waiting for authentication that nobody settled, soonest due first.</summary>
    public Task<IReadOnlyList<AwaitingPurchase>> AwaitingAsync(int limit, CancellationToken cancellationToken) =>
        QueryAwaitingAsync("settled_at IS NULL AND awaiting_until IS NOT NULL ORDER BY awaiting_until LIMIT @limit", new { limit }, cancellationToken);

    /// <summary>A cart's purchases that waited for authentication, newest first, settled or not.</summary>
    public Task<IReadOnlyList<AwaitingPurchase>> AwaitedForCartAsync(string cartId, CancellationToken cancellationToken) =>
        QueryAwaitingAsync("cart_id = @cartId AND pending_order IS NOT NULL ORDER BY started_at DESC", new { cartId }, cancellationToken);

    /// <summary>The purchase that waited for authentication on this intent, if one did.</summary>
    public async Task<AwaitingPurchase?> AwaitedByIntentAsync(string intentId, CancellationToken cancellationToken) =>
        await QueryAwaitingAsync("intent_id = @intentId AND pending_order IS NOT NULL", new { intentId }, cancellationToken) is [var awaited, ..] ? awaited : null;

    private async Task<IReadOnlyList<AwaitingPurchase>> QueryAwaitingAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string IdempotencyKey, string CartId, long AmountCents, object StartedAt, string IntentId, object AwaitingUntil, string PendingOrder, string? Outcome)>(
            new CommandDefinition(
                "SELECT idempotency_key, cart_id, amount_cents, started_at, intent_id, awaiting_until, pending_order, outcome FROM payment_journal WHERE " + where,
                parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new AwaitingPurchase(
            new JournalEntry(r.IdempotencyKey, r.CartId, r.AmountCents, Database.ReadTime(r.StartedAt)), r.IntentId, Database.ReadTime(r.AwaitingUntil), r.PendingOrder, r.Outcome))];
    }

    /// <summary>
    /// Purchases started before <paramref name="startedBefore"/> that nobody settled, oldest first;
    /// not those waiting for authentication, which are judged by <see cref="AwaitingAsync"/>'s rules.
    /// </summary>
    public async Task<IReadOnlyList<JournalEntry>> OpenAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string IdempotencyKey, string CartId, long AmountCents, object StartedAt)>(new CommandDefinition(
            "SELECT idempotency_key, cart_id, amount_cents, started_at FROM payment_journal " +
            "WHERE settled_at IS NULL AND started_at < @Before AND awaiting_until IS NULL ORDER BY started_at LIMIT @limit",
            new { Before = database.Time(startedBefore), limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new JournalEntry(r.IdempotencyKey, r.CartId, r.AmountCents, Database.ReadTime(r.StartedAt)))];
    }

    /// <summary>Every purchase of a cart, oldest first, with how it ended (null while open).</summary>
    public async Task<IReadOnlyList<(JournalEntry Entry, string? Outcome)>> ForCartAsync(string cartId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string IdempotencyKey, string CartId, long AmountCents, object StartedAt, string? Outcome)>(new CommandDefinition(
            "SELECT idempotency_key, cart_id, amount_cents, started_at, outcome FROM payment_journal WHERE cart_id = @cartId ORDER BY started_at",
            new { cartId }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => (new JournalEntry(r.IdempotencyKey, r.CartId, r.AmountCents, Database.ReadTime(r.StartedAt)), r.Outcome))];
    }

    public async Task<string?> OutcomeAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT outcome FROM payment_journal WHERE idempotency_key = @idempotencyKey", new { idempotencyKey }, cancellationToken: cancellationToken));
    }
}
