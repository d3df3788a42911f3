using System.Diagnostics;
using System.Net;
using CheckoutService.Checkout;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Trace;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The gateway's bad moments on a fake clock, with the production settings: 8 s attempts,
/// 3 retries at 1 s / 2 s / 4 s, and the breaker. Each test has its own host, so breaker state
/// never leaks between them.
/// </summary>
public sealed class PaymentResilienceTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private readonly List<Activity> _spans = [];
    private readonly CheckoutApp _app;

    public PaymentResilienceTests()
    {
        _app = new CheckoutApp
        {
            Clock = _clock,
            ReplaceServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)),
        };
        _app.Settings["PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS"] = "1000";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private GatewaySimulator Gateway => _app.Gateway;

    /// <summary>Runs a checkout while moving the fake clock, so backoff and timeouts elapse in milliseconds.</summary>
    private Task<Reply> CheckoutAsync(ShopperClient shopper, string cartId, string paymentMethodId) =>
        _clock.WhileAdvancingAsync(shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, paymentMethodId)));

    private IReadOnlyList<GatewaySimulator.GatewayCall> Calls(string cartId, string paymentMethodId, string operation) =>
        [.. Gateway.Calls.Where(c => c.IdempotencyKey == PlaceOrder.GatewayKey(cartId, 1, paymentMethodId) + ":" + operation)];

    private long[] BackoffWaitsMs(string cartId)
    {
        var handoff = Assert.Single(Spans(), s => s.OperationName == CheckoutTelemetry.PaymentHandoffSpan && (string?)s.GetTagItem(CheckoutTelemetry.CartId) == cartId);
        return [.. handoff.Events.Where(e => e.Name == CheckoutTelemetry.RetryBackoffEvent)
            .Select(e => (long)e.Tags.Single(t => t.Key == "wait_duration_ms").Value!)];
    }

    /// <summary>
    /// The spans so far. The exporter appends from the tracing pipeline's thread, and no lock of ours stops it,
    /// so the list is copied, not enumerated (enumerating it failed with "Collection was modified" in CI);
    /// a copy taken while the list grows is taken again.
    /// </summary>
    private Activity[] Spans()
    {
        while (true)
        {
            try
            {
                return _spans.ToArray();
            }
            catch (ArgumentException)
            {
            }
        }
    }

    [Fact]
    public async Task GatewayDown_Is502AfterOnePlusMaxRetriesAttempts_At1s2s4s()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var reply = await CheckoutAsync(shopper, cartId, "pm_stripe_1a2b_down");

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("2", reply.Header("Retry-After"));
        var attempts = Calls(cartId, "pm_stripe_1a2b_down", "create");
        Assert.Equal([0, 1, 2, 3], attempts.Select(a => a.RetryAttempt));
        // The waits the retry chose, exactly, and on the gateway's side at least that long apart (the
        // driven clock can only overshoot, by however long the machine took to make the next call).
        Assert.Equal([1000L, 2000L, 4000L], BackoffWaitsMs(cartId));
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => (b.At - a.At).TotalMilliseconds).ToList();
        Assert.Collection(gaps, g => Assert.True(g >= 1000, $"{g}"), g => Assert.True(g >= 2000, $"{g}"), g => Assert.True(g >= 4000, $"{g}"));
        Assert.Equal(0, Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Gateway502Once_IsRetriedAfter1s_And201WithOneCharge()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var reply = await CheckoutAsync(shopper, cartId, "pm_stripe_4f9c_flaky");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal([0, 1], Calls(cartId, "pm_stripe_4f9c_flaky", "create").Select(a => a.RetryAttempt));
        Assert.Equal(1, Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task CreateTimesOut_TheRetryAsksWhatHappened_And201WithOneIntentAndOneCharge()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var reply = await CheckoutAsync(shopper, cartId, "pm_stripe_9e8d_timeout");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Single(Calls(cartId, "pm_stripe_9e8d_timeout", "create")); // the retry was answered by the look-up
        Assert.Contains(Gateway.Calls, c => c.Path == "/api/v1/intents");
        var ledger = Gateway.Ledger(cartId);
        Assert.Single(ledger.Intents);
        Assert.Equal(1, ledger.Charges);
    }

    [Fact]
    public async Task Decline_Is402AfterOneAttempt()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var reply = await CheckoutAsync(shopper, cartId, "pm_stripe_4000_declined");

        Assert.Equal(HttpStatusCode.PaymentRequired, reply.Status);
        Assert.Single(Calls(cartId, "pm_stripe_4000_declined", "confirm"));
        Assert.Equal(0, Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task Breaker_OpensOnSustainedFailure_FailsFast_ThenAProbeClosesIt()
    {
        using var shopper = _app.Shopper();
        for (var i = 0; i < 2; i++)
        {
            var failing = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
            Assert.Equal(HttpStatusCode.BadGateway, (await CheckoutAsync(shopper, failing, "pm_stripe_x_down")).Status);
        }
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var callsBefore = Gateway.Calls.Count;

        var fastFailure = await CheckoutAsync(shopper, cartId, "pm_stripe_good");

        Assert.Equal(HttpStatusCode.BadGateway, fastFailure.Status);
        Assert.Equal("PAYMENT_GATEWAY_UNAVAILABLE", fastFailure.Error);
        Assert.Equal(callsBefore, Gateway.Calls.Count); // the open breaker did not call the gateway

        _clock.Advance(TimeSpan.FromSeconds(16));
        var afterBreak = await CheckoutAsync(shopper, cartId, "pm_stripe_good");

        Assert.Equal(HttpStatusCode.Created, afterBreak.Status);
        Assert.Equal(1, Gateway.Ledger(cartId).Charges);
    }
}
