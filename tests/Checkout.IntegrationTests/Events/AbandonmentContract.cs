using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Checkout;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Payments;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Contracts;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests.Events;

/// <summary>
/// cart.abandonment, exactly once per session that expired without an order, on each kind of
/// shared state: replicas sweeping the same sessions, a sweep that crashed after writing, a
/// session renewed meanwhile, and an authorisation the session left behind.
/// </summary>
public abstract class AbandonmentContract : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(900);
    private readonly FakeTimeProvider _clock = new(CheckoutApp.TraceMorning);
    private readonly string _database = "sqlite:" + Path.Combine(Directory.CreateTempSubdirectory("checkout-abandon-").FullName, "checkout.db");
    private readonly List<CheckoutApp> _apps = [];
    private CheckoutApp _app = null!;

    private string? _redisUrl;

    /// <summary>
    /// REDIS_URL for the shared-state kind under test (a server of its own: the expiry index is one
    /// key, and other tests' replicas would sweep these sessions); null for the in-process store.
    /// </summary>
    protected abstract Task<string?> RedisUrlAsync();

    private CheckoutApp Replica()
    {
        var app = new CheckoutApp { Clock = _clock };
        app.Settings["DATABASE_URL"] = _database;
        app.Settings["REDIS_URL"] = _redisUrl;
        _apps.Add(app);
        return app;
    }

    public async ValueTask InitializeAsync()
    {
        _redisUrl = await RedisUrlAsync();
        _app = Replica();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    private Task<IReadOnlyList<string>> AbandonmentsAsync(string cartId) =>
        _app.Services.GetRequiredService<Outbox>().ReadAsync(CartAbandonmentEvent.Topic, cartId, CancellationToken.None);

    private static Task SweepAsync(CheckoutApp app) =>
        app.Services.GetRequiredService<AbandonedSessionSweep>().SweepOnceAsync(CancellationToken.None);

    [Fact]
    public async Task AnExpiredSessionWithoutOrder_IsToldOnce_WhateverSweepsIt()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        Assert.Equal(HttpStatusCode.OK, (await shopper.SaveShippingAddressAsync(sessionId, token)).Status);
        var other = Replica();
        using (other.Shopper())
        {
            _clock.Advance(Ttl + TimeSpan.FromSeconds(1));

            await Task.WhenAll(SweepAsync(_app), SweepAsync(other), SweepAsync(_app));
            await SweepAsync(other);
        }

        var told = JsonNode.Parse(Assert.Single(await AbandonmentsAsync(cartId)))!;
        Assert.Equal(sessionId, (string?)told["session_id"]);
        Assert.Equal("cart.abandonment", (string?)told["event_type"]);
        Assert.Equal("shipping", (string?)told["last_step"]);
        Assert.Equal(CartAbandonmentEvent.NoPayment, (string?)told["payment_state"]);
        Assert.Equal(Sha256.OfEmail("user4827@example.com"), (string?)told["email_sha256"]);
        Assert.Equal("u***@example.com", (string?)told["email_masked"]);
        Assert.Equal(2, (int)told["cart"]!["items"]![0]!["quantity"]!);
        Assert.Equal((CheckoutApp.TraceMorning + Ttl).ToUnixTimeMilliseconds(), DateTimeOffset.Parse((string)told["expired_at"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
        Assert.DoesNotContain("user4827@", told.ToJsonString(), StringComparison.Ordinal);
        Assert.Empty(await _app.Services.GetRequiredService<SessionStore>().DueAsync(_clock.GetUtcNow(), 10, CancellationToken.None));
    }

    [Fact]
    public async Task ASessionThatBecameAnOrder_IsNeverTold()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (_, token) = await shopper.StartSessionAsync(cartId);
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token)).Status);

        _clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        await SweepAsync(_app);

        Assert.Empty(await AbandonmentsAsync(cartId));
        Assert.Single(await _app.Services.GetRequiredService<Outbox>().ReadAsync("checkout.order_completed", cartId, CancellationToken.None));
    }

    [Fact]
    public async Task ASweepThatCrashedAfterWritingTheEvent_DoesNotTellItTwice()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, _) = await shopper.StartSessionAsync(cartId);
        // What a sweep wrote before it died, leaving the session and its index entry in place.
        var session = await _app.Services.GetRequiredService<SessionStore>().PeekAsync(sessionId, CancellationToken.None);
        Assert.True(await _app.Services.GetRequiredService<Outbox>().AddAsync(
            CartAbandonmentEvent.Of(session!, CartAbandonmentEvent.NoPayment, session!.ExpiresAt), CancellationToken.None));

        _clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        await SweepAsync(_app);

        Assert.Single(await AbandonmentsAsync(cartId));
        Assert.Null(await _app.Services.GetRequiredService<SessionStore>().PeekAsync(sessionId, CancellationToken.None));
    }

    [Fact]
    public async Task ASessionRenewedBeforeItsExpiry_IsToldOnlyAfterItsNewExpiry()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        _clock.Advance(Ttl - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await shopper.SavePaymentMethodAsync(sessionId, "pm_stripe_4f9c2a1b", token)).Status);

        _clock.Advance(TimeSpan.FromMinutes(2));
        await SweepAsync(_app);
        Assert.Empty(await AbandonmentsAsync(cartId));

        _clock.Advance(Ttl);
        await SweepAsync(_app);
        var told = JsonNode.Parse(Assert.Single(await AbandonmentsAsync(cartId)))!;
        Assert.Equal("payment", (string?)told["last_step"]);
        Assert.Equal(CartAbandonmentEvent.PaymentMethodSaved, (string?)told["payment_state"]);
    }

    [Fact]
    public async Task AnAuthorisationTheSessionLeft_IsVoided_AndTheEventSaysSo()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        await shopper.StartSessionAsync(cartId);
        // A checkout that journalled its purchase and got an authorisation, then died before its order.
        const string key = "gw_abandoned_authorisation";
        await _app.Services.GetRequiredService<PaymentJournal>().StartAsync(new JournalEntry(key, cartId, 1499, _clock.GetUtcNow()), CancellationToken.None);
        Assert.IsType<GatewaySimulator.Created>(_app.Gateway.CreateIntent(
            new CreateIntentRequest(14.99m, "usd", "pm_stripe_4f9c2a1b", new IntentMetadata(cartId, "guest", null)), key + ":create"));

        _clock.Advance(Ttl + TimeSpan.FromMinutes(2));
        await SweepAsync(_app);

        var told = JsonNode.Parse(Assert.Single(await AbandonmentsAsync(cartId)))!;
        Assert.Equal(CartAbandonmentEvent.AuthorizationVoided, (string?)told["payment_state"]);
        Assert.Equal(IntentStatus.Canceled, Assert.Single(_app.Gateway.Ledger(cartId).Intents).Status);
    }
}

public sealed class InMemoryAbandonmentTests : AbandonmentContract
{
    protected override Task<string?> RedisUrlAsync() => Task.FromResult<string?>(null);
}

public sealed class RedisAbandonmentTests(RedisServers redis) : AbandonmentContract
{
    protected override async Task<string?> RedisUrlAsync() => (await redis.StartStandaloneAsync()).Url;
}
