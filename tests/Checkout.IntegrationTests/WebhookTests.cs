using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using CheckoutService.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Stripe;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// Stripe's webhooks over real HTTP, on each database: verified before anything else, recorded
/// before they are answered, applied once, and kept until their order exists.
/// </summary>
public abstract class WebhookContract : DatabaseContract
{
    internal const string OldSecret = "whsec_old_7c1e2d3f4a5b6c7d8e9f";
    internal const string NewSecret = "whsec_new_0a9b8c7d6e5f4a3b2c1d";

    /// <summary>Every replica has both secrets of a rotation.</summary>
    protected override CheckoutApp Configure(CheckoutApp app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Settings["STRIPE_WEBHOOK_SECRET"] = $"{OldSecret},{NewSecret}";
        return app;
    }

    internal static string Event(string type, JsonObject item, string? eventId = null) => new JsonObject
    {
        ["id"] = eventId ?? "evt_" + Guid.NewGuid().ToString("N"),
        ["object"] = "event",
        ["type"] = type,
        ["created"] = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
        ["data"] = new JsonObject { ["object"] = item },
    }.ToJsonString();

    internal static JsonObject Refund(string intentId, long amount, long refunded) => new()
    {
        ["id"] = "ch_" + Guid.NewGuid().ToString("N"),
        ["object"] = "charge",
        ["payment_intent"] = intentId,
        ["amount"] = amount,
        ["amount_refunded"] = refunded,
    };

    internal static Task<Reply> PostAsync(ShopperClient shopper, string payload, string secret = NewSecret, TimeSpan? age = null, Func<string, string>? tamper = null)
    {
        var timestamp = (TimeProvider.System.GetUtcNow() - (age ?? TimeSpan.Zero)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = $"t={timestamp},v1={new string('0', 64)},v1={EventUtility.ComputeSignature(secret, timestamp, payload)}";
        return SendAsync(shopper, tamper?.Invoke(payload) ?? payload, signature);
    }

    internal static async Task<Reply> SendAsync(ShopperClient shopper, string payload, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhooksApi.Path) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }
        return await Reply.ReadAsync(await shopper.Http.SendAsync(request));
    }

    internal static async Task<Order> PlaceOrderAsync(CheckoutApp app, ShopperClient shopper)
    {
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        return (await app.Services.GetRequiredService<IOrderStore>().GetAsync((string)placed.Body!["order_id"]!, CancellationToken.None))!;
    }

    private static async Task<IReadOnlyList<OrderStatusChange>> HistoryAsync(CheckoutApp app, string orderId) =>
        await app.Services.GetRequiredService<IOrderStore>().HistoryAsync(orderId, CancellationToken.None);

    /// <summary>The history this test made, without the simulator's own payment_intent.succeeded, which arrives when it arrives.</summary>
    private static async Task<IReadOnlyList<OrderStatusChange>> OwnHistoryAsync(CheckoutApp app, string orderId) =>
        [.. (await HistoryAsync(app, orderId)).Where(h => !h.ChangeId.StartsWith("evt_sim_", StringComparison.Ordinal))];

    private static async Task<string> StatusAsync(CheckoutApp app, string orderId) =>
        (await app.Services.GetRequiredService<IOrderStore>().GetAsync(orderId, CancellationToken.None))!.Status;

    [Fact]
    public async Task ARefund_SignedWithEitherSecretOfARotation_ReachesTheOrder()
    {
        var app = App;
        using var shopper = app.Shopper();
        var full = await PlaceOrderAsync(app, shopper);
        var partial = await PlaceOrderAsync(app, shopper);

        var withOld = await PostAsync(shopper, Event("charge.refunded", Refund(full.PaymentIntentId, full.Total.Cents, full.Total.Cents)), OldSecret);
        var withNew = await PostAsync(shopper, Event("charge.refunded", Refund(partial.PaymentIntentId, partial.Total.Cents, 100)), NewSecret);

        Assert.Equal(HttpStatusCode.OK, withOld.Status);
        Assert.Equal(HttpStatusCode.OK, withNew.Status);
        Assert.Equal(OrderStatus.Refunded, await StatusAsync(app, full.OrderId));
        Assert.Equal(OrderStatus.PartiallyRefunded, await StatusAsync(app, partial.OrderId));
        Assert.Equal([OrderStatus.Paid, OrderStatus.Refunded], (await OwnHistoryAsync(app, full.OrderId)).Select(h => h.Status));
    }

    public static TheoryData<string> Refusals => ["tampered body", "no signature", "wrong secret", "301 s old", "301 s in the future", "garbage header"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task ABadSignature_Is400_AndChangesNothing(string how)
    {
        var app = App;
        using var shopper = app.Shopper();
        var order = await PlaceOrderAsync(app, shopper);
        var payload = Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, order.Total.Cents));

        var reply = how switch
        {
            "tampered body" => await PostAsync(shopper, payload, tamper: p => p.Replace("charge.refunded", "charge.refunded ", StringComparison.Ordinal)),
            "no signature" => await SendAsync(shopper, payload, null),
            "wrong secret" => await PostAsync(shopper, payload, "whsec_someone_else"),
            "301 s old" => await PostAsync(shopper, payload, age: TimeSpan.FromSeconds(301)),
            "301 s in the future" => await PostAsync(shopper, payload, age: TimeSpan.FromSeconds(-301)),
            _ => await SendAsync(shopper, payload, "t=abc,v1"),
        };

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("INVALID_SIGNATURE", reply.Error);
        Assert.Equal(OrderStatus.Paid, Assert.Single(await OwnHistoryAsync(app, order.OrderId)).Status);
        Assert.Equal(OrderStatus.Paid, await StatusAsync(app, order.OrderId));
        // A later genuine delivery of the same event is not taken for a replay: nothing was recorded.
        Assert.False((bool)(await PostAsync(shopper, payload)).Body!["duplicate"]!);
    }

    [Fact]
    public async Task AReplay_EvenAfterARestart_IsANoOp()
    {
        var payload = "";
        string orderId;
        {
            var first = App;
            using var shopper = first.Shopper();
            var order = await PlaceOrderAsync(first, shopper);
            orderId = order.OrderId;
            payload = Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, 100));
            Assert.False((bool)(await PostAsync(shopper, payload)).Body!["duplicate"]!);
            Assert.True((bool)(await PostAsync(shopper, payload)).Body!["duplicate"]!);
            await first.DisposeAsync();
        }

        var restarted = Replica();
        using var again = restarted.Shopper();
        var replay = await PostAsync(again, payload);

        Assert.Equal(HttpStatusCode.OK, replay.Status);
        Assert.True((bool)replay.Body!["duplicate"]!);
        Assert.Equal(2, (await OwnHistoryAsync(restarted, orderId)).Count);
    }

    [Fact]
    public async Task AnEventThatOvertakesItsOrder_IsKept_AndAppliedWhenTheOrderAppears()
    {
        var app = App;
        using var shopper = app.Shopper();
        var template = await PlaceOrderAsync(app, shopper);
        var intentId = "pi_overtaken_" + Guid.NewGuid().ToString("N");

        var early = await PostAsync(shopper, Event("charge.refunded", Refund(intentId, 500, 500)));
        Assert.Equal(HttpStatusCode.OK, early.Status);
        var late = template with { OrderId = Ids.Order(), CartId = Ids.Cart(), PaymentIntentId = intentId, ConfirmationTokenHash = Sha256.Hex(Ids.ConfirmationToken()) };
        Assert.True(await app.Services.GetRequiredService<IOrderStore>().TryAddAsync(late, CancellationToken.None));

        Assert.True(await Eventually.TrueAsync(async () => await StatusAsync(app, late.OrderId) == OrderStatus.Refunded, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task AThousandUnmatchedEvents_NeverDelayAnEarlyEventForARealOrder()
    {
        var app = App;
        using var shopper = app.Shopper();
        var template = await PlaceOrderAsync(app, shopper);
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) =>
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(shopper, Event("charge.refunded", Refund("pi_elsewhere_" + Guid.NewGuid().ToString("N"), 500, 500)))).Status));
        var intentId = "pi_early_" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(shopper, Event("charge.refunded", Refund(intentId, template.Total.Cents, template.Total.Cents)))).Status);

        var late = template with
        {
            OrderId = Ids.Order(), CartId = Ids.Cart(), PaymentIntentId = intentId, ConfirmationTokenHash = Sha256.Hex(Ids.ConfirmationToken()),
            CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        Assert.True(await app.Services.GetRequiredService<IOrderStore>().TryAddAsync(late, CancellationToken.None));
        var existed = Stopwatch.StartNew();

        Assert.True(await Eventually.TrueAsync(async () => await StatusAsync(app, late.OrderId) == OrderStatus.Refunded, TimeSpan.FromSeconds(5)),
            $"still {await StatusAsync(app, late.OrderId)} {existed.Elapsed.TotalSeconds:F1} s after its order existed");
    }

    [Fact]
    public async Task ALateSmallerRefund_AfterAFullRefund_LeavesTheOrderRefunded()
    {
        var app = App;
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId));
        var order = (await app.Services.GetRequiredService<IOrderStore>().GetAsync((string)placed.Body!["order_id"]!, CancellationToken.None))!;
        Assert.Equal(4_799, order.Total.Cents);

        await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, 4_799, 4_799)));
        var late = await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, 4_799, 100)));

        Assert.Equal(HttpStatusCode.OK, late.Status);
        Assert.Equal(OrderStatus.Refunded, await StatusAsync(app, order.OrderId));
        Assert.Equal([OrderStatus.Paid, OrderStatus.Refunded], (await OwnHistoryAsync(app, order.OrderId)).Select(h => h.Status));
    }

    [Fact]
    public async Task ASmallerPartialRefund_AfterALargerOne_IsIgnored_AndTheFullOneStillApplies()
    {
        var app = App;
        using var shopper = app.Shopper();
        var order = await PlaceOrderAsync(app, shopper);

        await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, 300)));
        await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, 100)));
        Assert.Equal(OrderStatus.PartiallyRefunded, await StatusAsync(app, order.OrderId));
        await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, order.Total.Cents)));

        Assert.Equal([OrderStatus.Paid, OrderStatus.PartiallyRefunded, OrderStatus.Refunded], (await OwnHistoryAsync(app, order.OrderId)).Select(h => h.Status));
    }

    [Fact]
    public async Task ACancel_NeverVoidsAPaidOrPartlyRefundedOrder()
    {
        var app = App;
        using var shopper = app.Shopper();
        var paid = await PlaceOrderAsync(app, shopper);
        var partial = await PlaceOrderAsync(app, shopper);
        await PostAsync(shopper, Event("charge.refunded", Refund(partial.PaymentIntentId, partial.Total.Cents, 100)));

        foreach (var order in (Order[])[paid, partial])
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(shopper, Event("payment_intent.canceled", new JsonObject { ["id"] = order.PaymentIntentId, ["object"] = "payment_intent" }))).Status);
        }

        Assert.Equal(OrderStatus.Paid, await StatusAsync(app, paid.OrderId));
        Assert.Equal(OrderStatus.PartiallyRefunded, await StatusAsync(app, partial.OrderId));
    }

    [Fact]
    public async Task ARefund_NeverFollowsAVoid()
    {
        var app = App;
        using var shopper = app.Shopper();
        var template = await PlaceOrderAsync(app, shopper);
        // A void can only follow a failed payment, and no checkout places a failed order: it is written directly.
        var order = template with
        {
            OrderId = Ids.Order(), CartId = Ids.Cart(), PaymentIntentId = "pi_failed_" + Guid.NewGuid().ToString("N"),
            ConfirmationTokenHash = Sha256.Hex(Ids.ConfirmationToken()), Status = OrderStatus.PaymentFailed,
        };
        Assert.True(await app.Services.GetRequiredService<IOrderStore>().TryAddAsync(order, CancellationToken.None));
        await PostAsync(shopper, Event("payment_intent.canceled", new JsonObject { ["id"] = order.PaymentIntentId, ["object"] = "payment_intent" }));
        Assert.Equal(OrderStatus.Voided, await StatusAsync(app, order.OrderId));

        await PostAsync(shopper, Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, order.Total.Cents)));

        Assert.Equal(OrderStatus.Voided, await StatusAsync(app, order.OrderId));
    }

    [Fact]
    public async Task AnUnknownType_Is200AndIgnored()
    {
        var app = App;
        using var shopper = app.Shopper();
        var order = await PlaceOrderAsync(app, shopper);

        var reply = await PostAsync(shopper, Event("customer.created", new JsonObject { ["id"] = "cus_1", ["object"] = "customer" }));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Single(await OwnHistoryAsync(app, order.OrderId));
    }

    [Fact]
    public async Task TwoReplicas_GivenTheSameEventAtOnce_ApplyItOnce()
    {
        var (a, b) = (App, Replica());
        using var onA = a.Shopper();
        using var onB = b.Shopper();
        var order = await PlaceOrderAsync(a, onA);
        var payload = Event("charge.refunded", Refund(order.PaymentIntentId, order.Total.Cents, order.Total.Cents));

        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => PostAsync(i % 2 == 0 ? onA : onB, payload)));

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(replies, r => !(bool)r.Body!["duplicate"]!);
        Assert.Equal([OrderStatus.Paid, OrderStatus.Refunded], (await OwnHistoryAsync(a, order.OrderId)).Select(h => h.Status));
        Assert.Equal(OrderStatus.Refunded, await StatusAsync(a, order.OrderId));
    }

    [Fact]
    public async Task TheSimulatorsOwnSignedWebhook_MarksTheOrderPaid()
    {
        var app = App;
        using var shopper = app.Shopper();

        var order = await PlaceOrderAsync(app, shopper);

        Assert.True(await Eventually.TrueAsync(async () =>
            (await HistoryAsync(app, order.OrderId)).Any(h => h.Reason == "payment_intent.succeeded" && h.Status == OrderStatus.Paid), TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task AnswerTime_IsMeasured()
    {
        var app = App;
        using var shopper = app.Shopper();
        var order = await PlaceOrderAsync(app, shopper);
        var times = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var payload = Event("payment_intent.succeeded", new JsonObject { ["id"] = order.PaymentIntentId, ["object"] = "payment_intent" });
            var started = Stopwatch.GetTimestamp();
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(shopper, payload)).Status);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine($"webhook answer time over 200 events: p50 {times[99]:F1} ms, p99 {times[197]:F1} ms");
        Assert.Equal(201, (await OwnHistoryAsync(app, order.OrderId)).Count);
    }
}

public sealed class SqliteWebhookTests : WebhookContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresWebhookTests(PostgresServer postgres) : WebhookContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}
