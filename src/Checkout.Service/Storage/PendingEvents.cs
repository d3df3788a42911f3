using System.Data.Common;
using Dapper;

namespace CheckoutService.Storage;

/// <summary>
/// Events written in the same transaction as the change they tell of, waiting in the durable
/// store for the events relay to publish them (Kafka, or the outbox tail without it).
/// </summary>
public sealed class PendingEvents(Database database)
{
    public Task AddAsync(DbConnection connection, DbTransaction transaction, string eventId, string topic, string key, string payload, DateTimeOffset at,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO pending_events (event_id, topic, event_key, payload, created_at) VALUES (@eventId, @topic, @key, @payload, @At)",
            new { eventId, topic, key, payload, At = database.Time(at) }, transaction, cancellationToken: cancellationToken));

    /// <summary>The payloads waiting under a topic and key, oldest first.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(string topic, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT payload FROM pending_events WHERE topic = @topic AND event_key = @key ORDER BY created_at",
            new { topic, key }, cancellationToken: cancellationToken))];
    }
}
