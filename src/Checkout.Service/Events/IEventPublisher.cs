using CheckoutService.Storage;

namespace CheckoutService.Events;

/// <summary>Why one event was not delivered; a transient failure (the broker unreachable) is not the event's fault and is not counted against it.</summary>
public sealed record PublishFailure(string Error, bool Transient);

/// <summary>Where the outbox relay delivers events: Kafka in production, a fake in tests.</summary>
public interface IEventPublisher
{
    /// <summary>Publishes the events and waits for the broker's answers: for each, null when it was acknowledged, else why not.</summary>
    Task<IReadOnlyList<PublishFailure?>> PublishAsync(IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken);
}
