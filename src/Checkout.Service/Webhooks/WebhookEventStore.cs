using System.Data.Common;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Webhooks;

/// <summary>Verified Stripe events in the durable store: recorded once by id, then settled once applied.</summary>
public sealed class WebhookEventStore(Database database)
{
    /// <summary>Records a verified event. False when its id was recorded before: a replay, to answer and ignore.</summary>
    public async Task<bool> TryRecordAsync(StripeEvent stripeEvent, string payload, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        try
        {
            await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO webhook_events (event_id, type, payload, received_at) VALUES (@EventId, @Type, @payload, @At)",
                new { stripeEvent.EventId, stripeEvent.Type, payload, At = database.Time(receivedAt) }, transaction, cancellationToken: cancellationToken)),
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

    /// <summary>Events still waiting for their order, oldest first.</summary>
    public async Task<IReadOnlyList<string>> UnsettledPayloadsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT payload FROM webhook_events WHERE settled_at IS NULL ORDER BY received_at LIMIT @limit",
            new { limit }, cancellationToken: cancellationToken))];
    }

    public async Task<string?> OutcomeAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT outcome FROM webhook_events WHERE event_id = @eventId", new { eventId }, cancellationToken: cancellationToken));
    }
}
