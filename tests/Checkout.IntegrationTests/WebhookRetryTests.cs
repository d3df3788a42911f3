using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using CheckoutService.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// An event whose order never appears, on each database and a fake clock: it is retried by its
/// next-attempt time, backing off from 2 s to 1 h, and parked after 25 attempts or 72 h, when
/// the parked gauge counts it.
/// </summary>
public abstract class WebhookRetryContract : DatabaseContract
{
    // On whole seconds: PostgreSQL keeps microseconds and rounds, which could put a next attempt a tick after the exact wait.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
    private readonly LookupRecorder _orders;

    protected WebhookRetryContract() => _orders = new LookupRecorder(_clock);

    protected override CheckoutApp Configure(CheckoutApp app)
    {
        var configured = new CheckoutApp
        {
            Clock = _clock,
            ReplaceServices = services => services.AddSingleton<IOrderStore>(sp =>
            {
                _orders.Inner = ActivatorUtilities.CreateInstance<SqlOrderStore>(sp);
                return _orders;
            }),
        };
        configured.Settings["STRIPE_WEBHOOK_SECRET"] = WebhookContract.NewSecret;
        return configured;
    }

    /// <summary>Posts an event for an intent no order has, signed at the fake clock's time.</summary>
    private async Task<string> PostUnmatchedAsync(ShopperClient shopper)
    {
        var intentId = "pi_nobody_" + Guid.NewGuid().ToString("N");
        var payload = WebhookContract.Event("charge.refunded", WebhookContract.Refund(intentId, 500, 500));
        var reply = await WebhookContract.PostAsync(shopper, payload, age: TimeProvider.System.GetUtcNow() - _clock.GetUtcNow());
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return intentId;
    }

    private async Task<double> ParkedGaugeAsync()
    {
        using var text = new MemoryStream();
        await App.Services.GetRequiredService<CheckoutMetrics>().Registry.CollectAndExportAsTextAsync(text, TestContext.Current.CancellationToken);
        var line = Encoding.UTF8.GetString(text.ToArray()).Split('\n').FirstOrDefault(l => l.StartsWith("webhook_events_parked ", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line["webhook_events_parked ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Moves the clock by half the wait (no attempt may come), then by the rest (one must).</summary>
    private async Task AdvanceThroughWaitAsync(string intentId, TimeSpan wait)
    {
        var before = _orders.Lookups(intentId).Count;
        _clock.Advance(wait / 2);
        await Task.Delay(TimeSpan.FromMilliseconds(150), TimeProvider.System, TestContext.Current.CancellationToken);
        Assert.Equal(before, _orders.Lookups(intentId).Count);
        _clock.Advance(wait - wait / 2);
        Assert.True(await Eventually.TrueAsync(() => _orders.Lookups(intentId).Count > before, TimeSpan.FromSeconds(10)),
            $"no attempt {before + 1} after a wait of {wait}");
    }

    [Fact]
    public async Task AnUnmatchedEvent_BacksOffFrom2sTo1h_AndIsParkedAfter25Attempts()
    {
        using var shopper = App.Shopper();
        var intentId = await PostUnmatchedAsync(shopper);
        Assert.Single(_orders.Lookups(intentId)); // the attempt made on receipt
        Assert.Equal(0, await ParkedGaugeAsync());

        var waits = Enumerable.Range(0, 24).Select(n => TimeSpan.FromSeconds(Math.Min(2 * Math.Pow(2, n), 3600))).ToList();
        foreach (var wait in waits)
        {
            await AdvanceThroughWaitAsync(intentId, wait);
        }
        var lookups = _orders.Lookups(intentId);
        Assert.Equal(waits, lookups.Zip(lookups.Skip(1), (a, b) => b - a));

        Assert.True(await Eventually.TrueAsync(async () => await ParkedGaugeAsync() == 1, TimeSpan.FromSeconds(10)));
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromHours(1));
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, TestContext.Current.CancellationToken);
        }
        Assert.Equal(25, _orders.Lookups(intentId).Count);
    }

    [Fact]
    public async Task AnUnmatchedEvent_IsParkedAfter72Hours()
    {
        using var shopper = App.Shopper();
        var intentId = await PostUnmatchedAsync(shopper);
        await AdvanceThroughWaitAsync(intentId, TimeSpan.FromSeconds(2));

        _clock.Advance(TimeSpan.FromHours(72));

        Assert.True(await Eventually.TrueAsync(async () => await ParkedGaugeAsync() == 1, TimeSpan.FromSeconds(10)));
        var tried = _orders.Lookups(intentId).Count;
        Assert.InRange(tried, 2, 3);
        _clock.Advance(TimeSpan.FromHours(2));
        await Task.Delay(TimeSpan.FromMilliseconds(150), TimeProvider.System, TestContext.Current.CancellationToken);
        Assert.Equal(tried, _orders.Lookups(intentId).Count);
    }

    /// <summary>The real store, noting when each payment intent was looked up: each look-up is an attempt at an event.</summary>
    private sealed class LookupRecorder(TimeProvider clock) : OrderStoreDecorator
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _lookups = new(StringComparer.Ordinal);

        public IReadOnlyList<DateTimeOffset> Lookups(string intentId) =>
            _lookups.TryGetValue(intentId, out var times) ? [.. times] : [];

        public override Task<Order?> FindByPaymentIntentAsync(string paymentIntentId, CancellationToken cancellationToken)
        {
            _lookups.GetOrAdd(paymentIntentId, _ => new()).Enqueue(clock.GetUtcNow());
            return base.FindByPaymentIntentAsync(paymentIntentId, cancellationToken);
        }
    }
}

public sealed class SqliteWebhookRetryTests : WebhookRetryContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresWebhookRetryTests(PostgresServer postgres) : WebhookRetryContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}
