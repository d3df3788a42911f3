using System.Text;
using CheckoutService.IntegrationTests.Infrastructure;
using Confluent.Kafka;

namespace CheckoutService.IntegrationTests.Events;

/// <summary>The mock cluster behaves like Kafka for the clients the service uses: idempotent produce, group consume, headers.</summary>
public sealed class KafkaMockClusterTests(KafkaMockCluster kafka)
{
    [Fact]
    public async Task IdempotentProducer_MessagesReadBack_WithKeysValuesAndHeaders()
    {
        // A topic of its own, so messages other tests publish cannot be counted here.
        var topic = "test.mock-cluster." + Guid.NewGuid().ToString("N")[..12];
        kafka.CreateTopic(topic);
        var cartId = "cart-" + Guid.NewGuid().ToString("N")[..12];
        var sent = Enumerable.Range(1, 3)
            .Select(i => (EventId: Guid.NewGuid().ToString(), Value: $$"""{"cart_id":"{{cartId}}","step":{{i}}}"""))
            .ToList();
        var config = new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All };
        using (var producer = new ProducerBuilder<string, string>(config).Build())
        {
            foreach (var (eventId, value) in sent)
            {
                // Awaiting each report in turn keeps them in order on the one partition the key maps to.
                var report = await producer.ProduceAsync(topic, new Message<string, string>
                {
                    Key = cartId,
                    Value = value,
                    Headers = new Headers { { "event_id", Encoding.UTF8.GetBytes(eventId) }, { "event_type", "cart.abandoned"u8.ToArray() } },
                }, TestContext.Current.CancellationToken);
                Assert.Equal(PersistenceStatus.Persisted, report.Status);
            }
        }

        var received = await kafka.ReadAllAsync(topic, 3, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(3, received.Count);
        Assert.All(received, r => Assert.Equal(cartId, r.Message.Key));
        Assert.Equal(sent.Select(s => s.Value), received.Select(r => r.Message.Value));
        Assert.Equal(sent.Select(s => s.EventId), received.Select(r => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("event_id"))));
        Assert.All(received, r => Assert.Equal("cart.abandoned", Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("event_type"))));
    }
}
