using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests.Events;

/// <summary>
/// The abandonment promise end to end, in real time: two service processes on one Redis and one
/// PostgreSQL, publishing to the Kafka mock cluster; one is killed with SIGKILL just as the sessions
/// start to expire, and started again while they do. Every expired session without an order is
/// told exactly once, within the minute; no completed one is told at all.
/// </summary>
public sealed class AbandonmentAcrossReplicasTests(KafkaMockCluster kafka, PostgresServer postgres, RedisServers redis)
{
    private const int SessionTtlSeconds = 60;

    [Fact]
    public async Task OneReplicaKilledAndRestarted_WhileSessionsExpire_EachUnorderedSessionIsToldOnce()
    {
        var cancel = TestContext.Current.CancellationToken;
        var redisServer = await redis.StartStandaloneAsync();
        var settings = new Dictionary<string, string>
        {
            ["REDIS_URL"] = redisServer.Url,
            ["DATABASE_URL"] = await postgres.CreateDatabaseAsync(),
            ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.BootstrapServers,
            ["GUEST_SESSION_TTL_SECONDS"] = SessionTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS"] = "10",
            ["RATE_LIMIT_CHECKOUT_PER_MINUTE"] = "100000",
            ["RATE_LIMIT_CART_CREATES_PER_MINUTE"] = "100000",
            ["RATE_LIMIT_SESSION_STARTS_PER_MINUTE"] = "100000",
            ["RATE_LIMIT_SESSION_WRITES_PER_MINUTE"] = "100000",
        };
        var first = await ServiceProcess.StartAsync(settings);
        await using var second = await ServiceProcess.StartAsync(settings);
        var began = TimeProvider.System.GetTimestamp();

        // 24 shoppers over both replicas: every third one orders, the others walk away at different steps.
        var unordered = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new HashSet<string>(StringComparer.Ordinal);
        using (var onFirst = new ShopperClient(first.Client()))
        using (var onSecond = new ShopperClient(second.Client()))
        {
            for (var i = 0; i < 24; i++)
            {
                var shopper = i % 2 == 0 ? onFirst : onSecond;
                var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1 + (i % 3)));
                var (sessionId, token) = await shopper.StartSessionAsync(cartId);
                if (i % 4 != 1)
                {
                    Assert.Equal(HttpStatusCode.OK, (await shopper.SaveShippingAddressAsync(sessionId, token)).Status);
                }
                if (i % 3 == 0)
                {
                    Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token)).Status);
                    ordered.Add(cartId);
                }
                else
                {
                    unordered.Add(cartId);
                }
            }
        }

        // Killed as the first sessions expire, back ten seconds later while the rest do.
        await Task.Delay(TimeSpan.FromSeconds(SessionTtlSeconds - 2) - TimeProvider.System.GetElapsedTime(began), TimeProvider.System, cancel);
        first.Kill();
        await first.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(10), TimeProvider.System, cancel);
        await using var restarted = await ServiceProcess.StartAsync(settings);

        var told = await kafka.ReadUntilAsync("cart.abandonment", m => unordered.Contains(m.Message.Key), unordered.Count, TimeSpan.FromSeconds(120), cancel);
        // Anything late, duplicated or wrongly told would arrive within a few more relay passes.
        var everything = await kafka.ReadUntilAsync("cart.abandonment", m => unordered.Contains(m.Message.Key) || ordered.Contains(m.Message.Key),
            int.MaxValue, TimeSpan.FromSeconds(8), cancel);

        Assert.Equal(unordered.Order(), told.Select(m => m.Message.Key).Order());
        Assert.DoesNotContain(everything, m => ordered.Contains(m.Message.Key));
        var eventsPerCart = everything.GroupBy(m => m.Message.Key).ToDictionary(g => g.Key, g => g.Select(m => Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes("event_id"))).Distinct().Count());
        Assert.All(unordered, cartId => Assert.Equal(1, eventsPerCart[cartId]));

        var delays = told.Select(m => (m.Message.Timestamp.UtcDateTime - DateTimeOffset.Parse((string)JsonNode.Parse(m.Message.Value)!["expired_at"]!,
            System.Globalization.CultureInfo.InvariantCulture).UtcDateTime).TotalSeconds).Order().ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{unordered.Count} sessions told, {everything.Count} messages; expiry to publish: p50 {delays[delays.Count / 2]:F1} s, max {delays[^1]:F1} s");
        Assert.True(delays[^1] < 60, $"an abandonment was published {delays[^1]:F1} s after its session expired");
    }
}
