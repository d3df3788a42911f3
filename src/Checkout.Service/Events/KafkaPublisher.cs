using System.Text;
using CheckoutService.Storage;
using Confluent.Kafka;

namespace CheckoutService.Events;

/// <summary>
/// Events to Kafka through Confluent.Kafka: an idempotent producer with <c>acks=all</c>, so a retry
/// inside the client never writes a message twice and an acknowledgement means every in-sync replica
/// has it. Messages are keyed by the outbox key (a cart id, or an account id) and carry
/// <c>event_id</c> and <c>event_type</c> headers, so consumers can drop redeliveries.
/// </summary>
internal sealed partial class KafkaPublisher : IEventPublisher, IDisposable
{
    /// <summary>Errors of the connection or the cluster, not of one message: the relay waits and tries again without counting them.</summary>
    private static readonly HashSet<ErrorCode> TransientErrors =
    [
        ErrorCode.Local_MsgTimedOut, ErrorCode.Local_Transport, ErrorCode.Local_AllBrokersDown, ErrorCode.Local_TimedOut,
        ErrorCode.Local_QueueFull, ErrorCode.Local_Retry, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas,
        ErrorCode.NotEnoughReplicasAfterAppend, ErrorCode.LeaderNotAvailable, ErrorCode.NotLeaderForPartition,
        ErrorCode.BrokerNotAvailable, ErrorCode.NetworkException,
    ];

    private readonly IProducer<string, string> _producer;

    public KafkaPublisher(string bootstrapServers, ILogger<KafkaPublisher> logger)
    {
        _producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = "checkout-service",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            // An unreachable cluster fails a batch within this, and the relay tries again on its next pass.
            MessageTimeoutMs = 15_000,
        })
        .SetLogHandler((_, message) => LogClient(logger, message.Level, message.Message))
        .Build();
    }

    public async Task<IReadOnlyList<PublishFailure?>> PublishAsync(IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken) =>
        await Task.WhenAll(events.Select(DeliverAsync));

    private async Task<PublishFailure?> DeliverAsync(OutboxEvent outboxEvent)
    {
        try
        {
            // Not cancelled midway: a message handed to the client may still be delivered, and then it must be marked sent.
            await _producer.ProduceAsync(outboxEvent.Topic, new Message<string, string>
            {
                Key = outboxEvent.Key,
                Value = outboxEvent.Payload,
                Headers = new Headers
                {
                    { "event_id", Encoding.UTF8.GetBytes(outboxEvent.EventId) },
                    { "event_type", Encoding.UTF8.GetBytes(outboxEvent.EventType) },
                },
            }, CancellationToken.None);
            return null;
        }
        catch (ProduceException<string, string> e)
        {
            return new PublishFailure($"{e.Error.Code}: {e.Error.Reason}", TransientErrors.Contains(e.Error.Code));
        }
        catch (KafkaException e)
        {
            return new PublishFailure($"{e.Error.Code}: {e.Error.Reason}", TransientErrors.Contains(e.Error.Code));
        }
        catch (ArgumentException e)
        {
            return new PublishFailure(e.Message, Transient: false); // e.g. a topic name Kafka refuses
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka client {Level}: {Message}")]
    private static partial void LogClient(ILogger logger, SyslogLevel level, string message);
}
