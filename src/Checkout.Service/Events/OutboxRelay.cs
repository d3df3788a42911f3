using CheckoutService.Observability;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Events;

/// <summary>
/// Publishes the outbox, oldest first, on one replica at a time (a database lock), every quarter
/// second. An event is marked sent only after the broker acknowledged it, so a crash at any point
/// repeats a delivery (consumers drop it by <c>event_id</c>) and never loses one. An event that
/// fails by itself is retried with backoff and parked after <c>OUTBOX_MAX_ATTEMPTS</c>, while the
/// others flow past it; a broker that is down fails nobody's attempts. Lag and backlog are gauges.
/// </summary>
public sealed partial class OutboxRelay : PeriodicWork
{
    public const int Batch = 500;

    /// <summary>Delivered events stay this long in the outbox, for <c>events tail</c> and an audit, then go.</summary>
    public static readonly TimeSpan KeepSent = TimeSpan.FromDays(7);

    private const long LockId = 4604;

    private readonly Outbox _outbox;
    private readonly IEventPublisher _publisher;
    private readonly Database _database;
    private readonly CheckoutSettings _settings;
    private readonly ILogger<OutboxRelay> _logger;
    private readonly CheckoutMetrics _metrics;
    private DateTimeOffset _lastCleanup = DateTimeOffset.MinValue;

    public OutboxRelay(
        Outbox outbox, IEventPublisher publisher, Database database, TimeProvider time, IOptions<CheckoutSettings> settings,
        CheckoutMetrics metrics, ILogger<OutboxRelay> logger)
        : base(time, logger)
    {
        _outbox = outbox;
        _publisher = publisher;
        _database = database;
        _settings = settings.Value;
        _logger = logger;
        _metrics = metrics;
    }

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(250);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => RelayOnceAsync(cancellationToken);

    /// <summary>Delivers what is due until the outbox is drained or the broker fails; the number acknowledged, or -1 when another replica is relaying.</summary>
    public async Task<int> RelayOnceAsync(CancellationToken cancellationToken)
    {
        var sent = 0;
        var ran = await _database.RunAloneAsync(LockId, async () =>
        {
            IReadOnlyList<OutboxRow> rows;
            do
            {
                rows = await _outbox.UnsentAsync(Time.GetUtcNow(), Batch, cancellationToken);
                var (acknowledged, brokerDown) = await DeliverAsync(rows, cancellationToken);
                sent += acknowledged;
                if (brokerDown)
                {
                    break;
                }
            }
            while (rows.Count == Batch);
            await MeasureAsync(cancellationToken);
        }, cancellationToken);
        return ran ? sent : -1;
    }

    private async Task<(int Acknowledged, bool BrokerDown)> DeliverAsync(IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return (0, false);
        }
        var results = await _publisher.PublishAsync([.. rows.Select(r => r.Event)], cancellationToken);
        var now = Time.GetUtcNow();
        var acknowledged = new List<long>(rows.Count);
        string? brokerError = null;
        for (var i = 0; i < rows.Count; i++)
        {
            switch (results[i])
            {
                case null:
                    acknowledged.Add(rows[i].Seq);
                    break;
                case { Transient: true } failure:
                    brokerError ??= failure.Error;
                    break;
                case { } failure:
                    var parked = await _outbox.RecordFailureAsync(rows[i], failure.Error, _settings.OutboxMaxAttempts,
                        TimeSpan.FromMilliseconds(_settings.OutboxRetryBackoffMs), now, cancellationToken);
                    LogEventFailed(_logger, rows[i].Event.EventId, rows[i].Event.Topic, rows[i].Attempts + 1, parked, failure.Error);
                    break;
            }
        }
        await _outbox.MarkSentAsync(acknowledged, now, cancellationToken);
        if (brokerError is not null)
        {
            LogBrokerUnavailable(_logger, brokerError);
        }
        return (acknowledged.Count, brokerError is not null);
    }

    private async Task MeasureAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var (pending, oldest) = await _outbox.BacklogAsync(cancellationToken);
        _metrics.OutboxPending.Set(pending);
        _metrics.OutboxLag.Set(oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0);
        if (now - _lastCleanup > TimeSpan.FromHours(1))
        {
            _lastCleanup = now;
            await _outbox.DeleteSentAsync(now - KeepSent, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} to {Topic} failed delivery attempt {Attempt} (parked: {Parked}): {Error}")]
    private static partial void LogEventFailed(ILogger logger, string eventId, string topic, int attempt, bool parked, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event broker is unavailable ({Error}); the outbox keeps the events and the relay tries again")]
    private static partial void LogBrokerUnavailable(ILogger logger, string error);
}
