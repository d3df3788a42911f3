using System.Data.Common;
using System.Globalization;
using CheckoutService.Edge;
using CheckoutService.Orders;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Webhooks;

/// <summary>An event still waiting for its order, as the retry pass reads it.</summary>
public sealed record WaitingEvent(string EventId, string Payload, int Attempts, DateTimeOffset ReceivedAt);

/// <summary>
/// Verified Stripe events in the durable store: recorded once by id, then settled once applied.
/// One that waits for its order is tried again at its next-attempt time, backing off from 2 s to
/// 1 h, and parked after 72 h (Stripe's own retry horizon) or 25 attempts.
/// </summary>
public sealed class WebhookEventStore(Database database)
{
    public const int MaxAttempts = 25;

    public static readonly TimeSpan ParkAfter = TimeSpan.FromHours(72);

    private static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    /// <summary>The wait after an event's <paramref name="attempts"/>-th attempt found no order: 2 s, doubling, at most 1 h.</summary>
    public static TimeSpan WaitAfter(int attempts) =>
        TimeSpan.FromTicks(Math.Min(FirstWait.Ticks << Math.Clamp(attempts - 1, 0, 20), LongestWait.Ticks));

    /// <summary>
    /// Records a verified event, counting the attempt its receiver makes at once as the first.
    /// False when its id was recorded before: a replay, to answer and ignore.
    /// </summary>
    public async Task<bool> TryRecordAsync(StripeEvent stripeEvent, string payload, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stripeEvent);
        try
        {
            await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO webhook_events (event_id, type, payload, received_at, attempts, next_attempt_at, payment_intent_id, order_id, confirmation_token_hash) " +
                "VALUES (@EventId, @Type, @payload, @At, 1, @Next, @PaymentIntentId, @OrderId, @TokenHash)",
                new
                {
                    stripeEvent.EventId, stripeEvent.Type, payload, At = database.Time(receivedAt), Next = database.Time(receivedAt + WaitAfter(1)),
                    stripeEvent.PaymentIntentId, stripeEvent.OrderId,
                    TokenHash = stripeEvent.ConfirmationToken is { Length: > 0 } token ? Sha256.Hex(token) : null,
                }, transaction, cancellationToken: cancellationToken)),
                cancellationToken);
            return true;
        }
        catch (DbException e) when (Database.IsUniqueViolation(e))
        {
            return false;
        }
    }

    public async Task SettleAsync(string eventId, string outcome, DateTimeOffset settledAt, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_events SET settled_at = @At, outcome = @outcome WHERE event_id = @eventId AND settled_at IS NULL",
            new { eventId, outcome, At = database.Time(settledAt) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>Waiting events whose next attempt is due, soonest first.</summary>
    public Task<IReadOnlyList<WaitingEvent>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        QueryAsync(
            "SELECT event_id, payload, attempts, received_at FROM webhook_events WHERE settled_at IS NULL AND parked_at IS NULL " +
            "AND next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @limit",
            new { now = database.Time(now), limit }, cancellationToken);

    /// <summary>Waiting events that name one of <paramref name="orders"/>, whenever they are due.</summary>
    public Task<IReadOnlyList<WaitingEvent>> WaitingForAsync(IReadOnlyCollection<OrderKeys> orders, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orders);
        return QueryAsync(
            "SELECT event_id, payload, attempts, received_at FROM webhook_events WHERE settled_at IS NULL AND parked_at IS NULL " +
            $"AND ({database.AnyOf("payment_intent_id", "@Intents")} OR {database.AnyOf("order_id", "@OrderIds")} " +
            $"OR {database.AnyOf("confirmation_token_hash", "@TokenHashes")})",
            new
            {
                Intents = orders.Select(o => o.PaymentIntentId).ToArray(),
                OrderIds = orders.Select(o => o.OrderId).ToArray(),
                TokenHashes = orders.Select(o => o.ConfirmationTokenHash).ToArray(),
            }, cancellationToken);
    }

    /// <summary>
    /// Counts an attempt that found no order and sets the next, or parks the event. Only the first
    /// replica to count a given attempt counts it. True when the event was parked.
    /// </summary>
    public async Task<bool> RecordWaitAsync(WaitingEvent waiting, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(waiting);
        var attempts = waiting.Attempts + 1;
        var parked = attempts >= MaxAttempts || now - waiting.ReceivedAt >= ParkAfter;
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_events SET attempts = @attempts, next_attempt_at = @Next, parked_at = @ParkedAt " +
            "WHERE event_id = @EventId AND attempts = @Seen AND settled_at IS NULL AND parked_at IS NULL",
            new
            {
                attempts, Next = database.Time(now + WaitAfter(attempts)), ParkedAt = parked ? database.Time(now) : null,
                waiting.EventId, Seen = waiting.Attempts,
            }, transaction, cancellationToken: cancellationToken)), cancellationToken);
        return parked;
    }

    /// <summary>Parked events that nobody has replayed or dismissed.</summary>
    public async Task<long> ParkedCountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM webhook_events WHERE settled_at IS NULL AND parked_at IS NOT NULL", cancellationToken: cancellationToken));
    }

    public async Task<string?> OutcomeAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT outcome FROM webhook_events WHERE event_id = @eventId", new { eventId }, cancellationToken: cancellationToken));
    }

    private async Task<IReadOnlyList<WaitingEvent>> QueryAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new WaitingEvent(
            (string)r.event_id, (string)r.payload, Convert.ToInt32(r.attempts, CultureInfo.InvariantCulture), Database.ReadTime(r.received_at)))];
    }
}
