using System.Data.Common;
using System.Globalization;
using CheckoutService.Edge;
using Dapper;

namespace CheckoutService.Storage;

/// <summary>An event as the outbox holds it: the Kafka topic, the message key (a cart id, or an account id), and the JSON body.</summary>
public sealed record OutboxEvent(string EventId, string Topic, string Key, string EventType, string Payload, DateTimeOffset CreatedAt)
{
    /// <summary>
    /// The id of the one event of <paramref name="eventType"/> about <paramref name="subject"/> (an order, a session):
    /// derived, not random, so every writer of it, on any replica or after a crash, writes the same row.
    /// </summary>
    public static string IdFor(string eventType, string subject) =>
        "evt_" + Sha256.Hex($"{eventType}:{subject}")[..32];
}

/// <summary>A stored event with its place in the outbox and how its delivery went.</summary>
/// <summary>A topic whose events carry a secret (sealed, but still one): their rows are deleted once the broker has them.</summary>
public sealed record SecretTopic(string Topic);

public sealed record OutboxRow(long Seq, OutboxEvent Event, int Attempts, string? LastError, DateTimeOffset? SentAt, DateTimeOffset? ParkedAt);

/// <summary>
/// The transactional outbox in the orders database (<c>outbox</c>). Producers add events inside the
/// transaction of the change they tell of, so an event exists exactly when its change does; the
/// relay reads them in order, marks each sent only after the broker acknowledged it, and parks one
/// that keeps failing. Without a broker the events stay here, readable with <c>events tail</c>.
/// </summary>
public sealed class Outbox(Database database, IEnumerable<SecretTopic> secretTopics)
{
    private readonly string[] _secretTopics = [.. secretTopics.Select(t => t.Topic)];

    private const string Columns = "seq, event_id, topic, event_key, event_type, payload, created_at, attempts, last_error, sent_at, parked_at";

    /// <summary>Adds an event in the caller's transaction; false (and nothing written) when an event with its id is there already.</summary>
    public async Task<bool> AddAsync(DbConnection connection, DbTransaction? transaction, OutboxEvent outboxEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(outboxEvent);
        // ON CONFLICT DO NOTHING in both engines: a second writer of the same event id neither fails nor duplicates it.
        return await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO outbox (event_id, topic, event_key, event_type, payload, created_at) " +
            "VALUES (@EventId, @Topic, @Key, @EventType, @Payload, @At) ON CONFLICT (event_id) DO NOTHING",
            new { outboxEvent.EventId, outboxEvent.Topic, outboxEvent.Key, outboxEvent.EventType, outboxEvent.Payload, At = database.Time(outboxEvent.CreatedAt) },
            transaction, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>Adds an event on its own (its change needs no other row).</summary>
    public Task<bool> AddAsync(OutboxEvent outboxEvent, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => AddAsync(connection, transaction, outboxEvent, cancellationToken), cancellationToken);

    /// <summary>The payloads under a topic and key, oldest first, sent or not.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(string topic, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT payload FROM outbox WHERE topic = @topic AND event_key = @key ORDER BY seq",
            new { topic, key }, cancellationToken: cancellationToken))];
    }

    /// <summary>Events to deliver, oldest first: not sent, not parked, and not waiting out the backoff of a failure.</summary>
    public Task<IReadOnlyList<OutboxRow>> UnsentAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        QueryAsync(
            $"SELECT {Columns} FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL AND (retry_at IS NULL OR retry_at <= @now) ORDER BY seq LIMIT @limit",
            new { now = database.Time(now), limit }, cancellationToken);

    /// <summary>Every event after <paramref name="afterSeq"/>, sent or not: what <c>events tail</c> prints.</summary>
    public Task<IReadOnlyList<OutboxRow>> AfterAsync(long afterSeq, int limit, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM outbox WHERE seq > @afterSeq ORDER BY seq LIMIT @limit", new { afterSeq, limit }, cancellationToken);

    public async Task MarkSentAsync(IReadOnlyCollection<long> seqs, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (seqs.Count == 0)
        {
            return;
        }
        // One statement for the batch, not one round trip per event; events that carry a secret are not kept.
        var batch = new { Seqs = seqs.ToArray(), At = database.Time(at), Secret = _secretTopics };
        await database.WriteAsync(async (connection, transaction) =>
        {
            if (_secretTopics.Length > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM outbox WHERE {database.AnyOf("seq", "@Seqs")} AND {database.AnyOf("topic", "@Secret")}", batch, transaction,
                    cancellationToken: cancellationToken));
            }
            return await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE outbox SET sent_at = @At, last_error = NULL WHERE {database.AnyOf("seq", "@Seqs")}", batch, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
    }

    /// <summary>
    /// Counts a failed delivery of the event (attempt n waits 2^(n-1) × <paramref name="backoff"/> before the next);
    /// at <paramref name="maxAttempts"/> it is parked with its error and no longer tried. True when it was parked.
    /// </summary>
    public async Task<bool> RecordFailureAsync(OutboxRow row, string error, int maxAttempts, TimeSpan backoff, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(row);
        var attempts = row.Attempts + 1;
        var parked = attempts >= maxAttempts;
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET attempts = @attempts, last_error = @error, retry_at = @RetryAt, parked_at = @ParkedAt WHERE seq = @Seq",
            new
            {
                row.Seq,
                attempts,
                error = error.Length > 500 ? error[..500] : error,
                RetryAt = database.Time(at + backoff * Math.Pow(2, Math.Min(attempts - 1, 16))),
                ParkedAt = parked ? database.Time(at) : null,
            }, transaction, cancellationToken: cancellationToken)), cancellationToken);
        return parked;
    }

    /// <summary>How many events wait, and since when the oldest of them.</summary>
    public async Task<(long Pending, DateTimeOffset? Oldest)> BacklogAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleAsync(new CommandDefinition(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL",
            cancellationToken: cancellationToken));
        return (Convert.ToInt64(row.pending, CultureInfo.InvariantCulture), row.oldest is null ? null : Database.ReadTime(row.oldest));
    }

    /// <summary>Forgets events delivered before <paramref name="before"/>; the broker has them.</summary>
    public async Task<int> DeleteSentAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        return await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < @before", new { before = database.Time(before) }, transaction,
            cancellationToken: cancellationToken)), cancellationToken);
    }

    private async Task<IReadOnlyList<OutboxRow>> QueryAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new OutboxRow(
            Convert.ToInt64(r.seq, CultureInfo.InvariantCulture),
            new OutboxEvent((string)r.event_id, (string)r.topic, (string)r.event_key, (string)r.event_type, (string)r.payload, Database.ReadTime(r.created_at)),
            Convert.ToInt32(r.attempts, CultureInfo.InvariantCulture),
            (string?)r.last_error,
            r.sent_at is null ? null : Database.ReadTime(r.sent_at),
            r.parked_at is null ? null : Database.ReadTime(r.parked_at)))];
    }
}
