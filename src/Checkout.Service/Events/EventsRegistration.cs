using CheckoutService.Observability;
using Microsoft.Extensions.Options;

namespace CheckoutService.Events;

/// <summary>
/// Events leave through the outbox: with <c>KAFKA_BOOTSTRAP_SERVERS</c> the relay publishes them to
/// Kafka; without it they stay in the outbox, where <c>events tail</c> shows them.
/// </summary>
public static class EventsRegistration
{
    public static IServiceCollection AddEvents(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => s.KafkaBootstrapServers is null || IsBrokerList(s.KafkaBootstrapServers),
                "KAFKA_BOOTSTRAP_SERVERS must be host:port pairs, comma-separated.");
        services.AddSingleton<IEventPublisher>(sp => new KafkaPublisher(
            sp.GetRequiredService<IOptions<CheckoutSettings>>().Value.KafkaBootstrapServers!, sp.GetRequiredService<ILogger<KafkaPublisher>>()));
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService<RelayWhenThereIsABroker>();
        services.AddSingleton(sp => new RuntimeMode("events", UsesKafka(sp) ? "kafka" : "outbox"));
        return services;
    }

    private static bool UsesKafka(IServiceProvider services) =>
        !string.IsNullOrEmpty(services.GetRequiredService<IOptions<CheckoutSettings>>().Value.KafkaBootstrapServers);

    private static bool IsBrokerList(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries).All(broker =>
            broker.LastIndexOf(':') is var colon and > 0 && int.TryParse(broker[(colon + 1)..], out var port) && port is > 0 and < 65536);

    /// <summary>Runs the relay when there is a broker; without one the events wait in the outbox.</summary>
    private sealed class RelayWhenThereIsABroker(IServiceProvider services) : IHostedService
    {
        private OutboxRelay? _relay;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _relay = UsesKafka(services) ? services.GetRequiredService<OutboxRelay>() : null;
            return _relay?.StartAsync(cancellationToken) ?? Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => _relay?.StopAsync(cancellationToken) ?? Task.CompletedTask;
    }
}
