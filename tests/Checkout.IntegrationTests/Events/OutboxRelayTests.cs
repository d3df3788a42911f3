using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CheckoutService.Events;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using CheckoutService.Storage;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.Events;

/// <summary>The outbox relay against the real Kafka protocol (librdkafka's mock cluster), and against a publisher the test controls.</summary>
public sealed class OutboxRelayTests(KafkaMockCluster kafka, PostgresServer postgres) : IAsyncDisposable
{
    private readonly List<CheckoutApp> _apps = [];

    private CheckoutApp App(string? databaseUrl = null, IEventPublisher? publisher = null, FakeTimeProvider? clock = null, int maxAttempts = 8)
    {
        var app = new CheckoutApp
        {
            Clock = clock,
            ReplaceServices = publisher is null ? null : services => services.AddSingleton(publisher),
        };
        app.Settings["KAFKA_BOOTSTRAP_SERVERS"] = publisher is null ? kafka.BootstrapServers : "127.0.0.1:9";
        app.Settings["OUTBOX_MAX_ATTEMPTS"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Settings["OUTBOX_RETRY_BACKOFF_MS"] = "10";
        if (databaseUrl is not null)
        {
            app.Settings["DATABASE_URL"] = databaseUrl;
        }
        _apps.Add(app);
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    private static OutboxEvent Event(string key, string? payload = null, string topic = "checkout.analytics") =>
        new("evt_" + Guid.NewGuid().ToString("N"), topic, key, topic, payload ?? $$"""{"cart_id":"{{key}}"}""", TimeProvider.System.GetUtcNow());

    private static string Header(ConsumeResult<string, string> message, string name) =>
        Encoding.UTF8.GetString(message.Message.Headers.GetLastBytes(name));

    [Fact]
    public async Task OrdersAccountsAndBeacons_ReachKafka_KeyedAndWithTheirHeaders()
    {
        var app = App();
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        var account = await shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts", new JsonObject
        {
            ["order_id"] = (string?)placed.Body!["order_id"], ["confirmation_token"] = (string?)placed.Body!["confirmation_token"], ["password"] = "correct horse battery staple",
        });
        var accountId = (string)account.Body!["account_id"]!;
        Assert.Equal(HttpStatusCode.Accepted, (await shopper.SendAsync(HttpMethod.Post, "/api/v2/analytics/events",
            new JsonObject { ["name"] = "checkout_viewed", ["cart_id"] = cartId, ["flow"] = "guest_v2" })).Status);

        var order = Assert.Single(await kafka.ReadUntilAsync("checkout.order_completed", m => m.Message.Key == cartId, 1, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        var body = JsonNode.Parse(order.Message.Value)!;
        Assert.Equal((string?)placed.Body!["order_id"], (string?)body["order_id"]);
        Assert.Equal((string?)body["event_id"], Header(order, "event_id"));
        Assert.Equal("checkout.order_completed", Header(order, "event_type"));
        Assert.DoesNotContain("user4827@", order.Message.Value, StringComparison.Ordinal);
        var proof = Assert.Single(await kafka.ReadUntilAsync("account.email_verification", m => m.Message.Key == accountId, 1, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal("account.email_verification", Header(proof, "event_type"));
        var beacon = Assert.Single(await kafka.ReadUntilAsync("checkout.analytics", m => m.Message.Key == cartId, 1, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal("checkout_viewed", (string?)JsonNode.Parse(beacon.Message.Value)!["name"]);

        var outbox = app.Services.GetRequiredService<Outbox>();
        Assert.True(await Eventually.TrueAsync(async () => (await outbox.BacklogAsync(CancellationToken.None)).Pending == 0, TimeSpan.FromSeconds(10)));

        // The code reached the mailer sealed, and its row, a secret still, is gone once Kafka has it; the order's stays.
        Assert.Null(JsonNode.Parse(proof.Message.Value)!["code"]);
        Assert.NotNull((string?)JsonNode.Parse(proof.Message.Value)!["sealed_code"]);
        Assert.Empty(await outbox.ReadAsync(CheckoutService.Accounts.AccountStore.EmailVerificationTopic, accountId, CancellationToken.None));
        Assert.Single(await outbox.ReadAsync("checkout.order_completed", cartId, CancellationToken.None));
    }

    [Fact]
    public async Task APoisonMessage_IsParkedWithItsError_AndTheRestStillFlow()
    {
        var app = App(maxAttempts: 3);
        var outbox = app.Services.GetRequiredService<Outbox>();
        var key = "cart_poison" + Guid.NewGuid().ToString("N")[..12];
        // Over the producer's message.max.bytes (1 MB): Kafka refuses this one message, whatever the retries.
        var poison = Event(key, $$"""{"pad":"{{new string('x', 1_100_000)}}"}""");
        var good = new[] { Event(key), poison, Event(key), Event(key) }.Where(e => e != poison).ToList();
        foreach (var e in new[] { good[0], poison, good[1], good[2] })
        {
            await outbox.AddAsync(e, CancellationToken.None);
        }

        var delivered = await kafka.ReadUntilAsync("checkout.analytics", m => m.Message.Key == key, 3, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(good.Select(e => e.EventId), delivered.Select(m => Header(m, "event_id")));

        OutboxRow? parked = null;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            parked = (await outbox.AfterAsync(0, 10_000, CancellationToken.None)).Single(r => r.Event.EventId == poison.EventId);
            return parked.ParkedAt is not null;
        }, TimeSpan.FromSeconds(30)));
        Assert.Equal(3, parked!.Attempts);
        Assert.Contains("MsgSizeTooLarge", parked.LastError, StringComparison.Ordinal);
        Assert.Null(parked.SentAt);
    }

    [Fact]
    public async Task AnEvent_IsMarkedSent_OnlyOnceTheBrokerAcknowledged_AndABrokerOutageCountsAgainstNoEvent()
    {
        var clock = new FakeTimeProvider(CheckoutApp.TraceMorning);
        var broker = new ScriptedPublisher();
        var app = App(publisher: broker, clock: clock, maxAttempts: 2);
        var relay = app.Services.GetRequiredService<OutboxRelay>();
        var outbox = app.Services.GetRequiredService<Outbox>();
        var lag = app.Services.GetRequiredService<CheckoutMetrics>().OutboxLag;
        var first = Event("cart_relay1") with { CreatedAt = clock.GetUtcNow() };
        await outbox.AddAsync(first, CancellationToken.None);

        broker.Down = true;
        clock.Advance(TimeSpan.FromSeconds(42));
        for (var pass = 0; pass < 5; pass++)
        {
            Assert.Equal(0, await OwnPassAsync(relay));
        }
        var waiting = Assert.Single(await outbox.UnsentAsync(clock.GetUtcNow(), 10, CancellationToken.None));
        Assert.Equal(0, waiting.Attempts);
        Assert.Equal(42, lag.Value, precision: 0);

        broker.Down = false;
        Assert.Equal(1, await OwnPassAsync(relay));
        Assert.Empty(await outbox.UnsentAsync(clock.GetUtcNow(), 10, CancellationToken.None));
        Assert.Equal([first.EventId], broker.Acknowledged);
        Assert.Equal(0, lag.Value);
    }

    /// <summary>
    /// A pass of the test's own. The relay's periodic pass, woken when the test advances the clock, may
    /// hold the relay's lock for a moment (-1); the test's pass waits for it rather than being skipped.
    /// </summary>
    private static async Task<int> OwnPassAsync(OutboxRelay relay)
    {
        int sent;
        while ((sent = await relay.RelayOnceAsync(CancellationToken.None)) == -1)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, TestContext.Current.CancellationToken);
        }
        return sent;
    }

    [Fact]
    public async Task OnPostgreSql_OnlyOneReplicaRelaysAtATime()
    {
        var database = await postgres.CreateDatabaseAsync();
        var clock = new FakeTimeProvider(CheckoutApp.TraceMorning);
        var slow = new ScriptedPublisher { Hold = new TaskCompletionSource() };
        var first = App(database, slow, clock);
        var second = App(database, new ScriptedPublisher(), clock);
        await first.Services.GetRequiredService<Outbox>().AddAsync(Event("cart_lock1"), CancellationToken.None);
        var firstRelay = first.Services.GetRequiredService<OutboxRelay>();
        var secondRelay = second.Services.GetRequiredService<OutboxRelay>();

        var holding = firstRelay.RelayOnceAsync(CancellationToken.None);
        await slow.Publishing.Task;

        Assert.Equal(-1, await secondRelay.RelayOnceAsync(CancellationToken.None));
        slow.Hold.SetResult();
        Assert.Equal(1, await holding);
        Assert.Equal(0, await secondRelay.RelayOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TenThousandEvents_AllReachKafka_InOrderPerKey_AndTheRateIsReported()
    {
        const int count = 10_000;
        var database = await postgres.CreateDatabaseAsync();
        var writer = App(database, new ScriptedPublisher { Down = true }, new FakeTimeProvider(CheckoutApp.TraceMorning));
        var outbox = writer.Services.GetRequiredService<Outbox>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var keys = Enumerable.Range(0, 50).Select(i => $"cart_tput{run}{i}").ToList();
        await using (var connection = await writer.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync(CancellationToken.None))
        {
            for (var i = 0; i < count; i++)
            {
                await outbox.AddAsync(connection, transaction, Event(keys[i % keys.Count], $$"""{"n":{{i}}}"""), CancellationToken.None);
            }
            await transaction.CommitAsync(CancellationToken.None);
        }

        var relaying = App(database);
        var started = TimeProvider.System.GetTimestamp();
        var relayOutbox = relaying.Services.GetRequiredService<Outbox>();
        Assert.True(await Eventually.TrueAsync(async () => (await relayOutbox.BacklogAsync(CancellationToken.None)).Pending == 0, TimeSpan.FromSeconds(120)));
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        var mine = keys.ToHashSet(StringComparer.Ordinal);
        var delivered = await kafka.ReadUntilAsync("checkout.analytics", m => mine.Contains(m.Message.Key), count, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(count, delivered.Count);
        Assert.All(delivered.GroupBy(m => m.Message.Key), perKey =>
        {
            var order = perKey.Select(m => (int)JsonNode.Parse(m.Message.Value)!["n"]!).ToList();
            Assert.Equal(order.Order(), order);
        });
        TestContext.Current.TestOutputHelper?.WriteLine($"outbox relay: {count} events to Kafka in {elapsed.TotalSeconds:F1} s, {count / elapsed.TotalSeconds:F0} events/s");
    }

    [Fact]
    public async Task EventsTail_PrintsTheOutboxAsJsonLines()
    {
        var app = App(publisher: new ScriptedPublisher { Down = true }, clock: new FakeTimeProvider(CheckoutApp.TraceMorning));
        var outbox = app.Services.GetRequiredService<Outbox>();
        var events = new[] { Event("cart_tail1"), Event("cart_tail2", topic: "cart.abandonment") };
        foreach (var e in events)
        {
            await outbox.AddAsync(e, CancellationToken.None);
        }
        using var output = new StringWriter();

        Assert.Equal(0, await EventsTail.RunAsync(app.Services, ["events", "tail", "--no-follow"], output, CancellationToken.None));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(events.Select(e => e.EventId), lines.Select(l => (string?)l["event_id"]));
        Assert.Equal("cart.abandonment", (string?)lines[1]["topic"]);
        Assert.Equal("cart_tail2", (string?)lines[1]["payload"]!["cart_id"]);
        Assert.Equal("pending", (string?)lines[0]["state"]);
        Assert.Equal(2, await EventsTail.RunAsync(app.Services, ["events", "purge"], new StringWriter(), CancellationToken.None));
    }

    /// <summary>A broker the test scripts: up or down, optionally holding a delivery until released.</summary>
    private sealed class ScriptedPublisher : IEventPublisher
    {
        public volatile bool Down;

        public TaskCompletionSource? Hold { get; init; }

        public TaskCompletionSource Publishing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Acknowledged { get; } = [];

        public async Task<IReadOnlyList<PublishFailure?>> PublishAsync(IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken)
        {
            Publishing.TrySetResult();
            if (Hold is not null)
            {
                await Hold.Task;
            }
            if (Down)
            {
                return [.. events.Select(_ => new PublishFailure("Local_AllBrokersDown: 1/1 brokers are down", Transient: true))];
            }
            Acknowledged.AddRange(events.Select(e => e.EventId));
            return [.. events.Select(_ => (PublishFailure?)null)];
        }
    }

}
