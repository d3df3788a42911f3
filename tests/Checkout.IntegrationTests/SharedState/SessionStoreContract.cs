using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.SharedState;

/// <summary>The session rules on each kind of shared state.</summary>
public abstract class SessionStoreContract(Func<TimeProvider, IExpiringTables> backend)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(900);
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private IExpiringTables? _tables;
    private SessionStore? _store;

    private IExpiringTables Tables => _tables ??= backend(_clock);

    private SessionStore Store => _store ??= new SessionStore(Tables, _clock, NullLogger<SessionStore>.Instance);

    private async Task<GuestSession> NewSessionAsync()
    {
        var sessionId = SessionTokens.NewSessionId();
        var now = _clock.GetUtcNow();
        var session = new GuestSession(sessionId, Ids.Cart(), "user4827@example.com", SessionTokens.Issue(sessionId).Hash,
            new CartSnapshot([], Money.Zero, "USD", 1), null, null, null, now, now, SessionStatus.Active, 1);
        await Store.CreateAsync(session, Ttl, CancellationToken.None);
        return session;
    }

    [Fact]
    public async Task BeginPayment_WhileAnotherCheckoutsClaimHoldsTheSession_IsRefused_AndItsResumeChangesNothing()
    {
        var settings = Options.Create(new CheckoutSettings());
        var sessions = new GuestSessions(Store, _clock, settings, new CheckoutMetrics(settings), NullLogger<GuestSessions>.Instance);
        var opened = await Store.GetAsync((await NewSessionAsync()).SessionId, CancellationToken.None);
        var snapshot = new CartSnapshot([], Money.Zero, "USD", 1);
        var first = new CheckoutClaim("first", _clock.GetUtcNow().AddSeconds(90));
        var second = new CheckoutClaim("second", _clock.GetUtcNow().AddSeconds(90));

        var paying = await sessions.BeginPaymentAsync(opened!, snapshot, ShippingAddressForTests, "pm_first", first, CancellationToken.None);
        // The second tab read the session before the first began paying, and decides on that old read.
        var refused = await sessions.BeginPaymentAsync(opened!, snapshot, ShippingAddressForTests, "pm_second", second, CancellationToken.None);
        await sessions.ResumeAsync(opened! with { Session = opened.Session with { Status = SessionStatus.PaymentPending, CheckoutClaimId = "second" } },
            CancellationToken.None);
        var held = await Store.GetAsync(opened!.Session.SessionId, CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(91)); // the first checkout crashed: its lease lapses, and the session can be paid again
        var takenOver = await sessions.BeginPaymentAsync(held!, snapshot, ShippingAddressForTests, "pm_second", second, CancellationToken.None);

        Assert.Equal("first", paying!.Session.CheckoutClaimId);
        Assert.Null(refused);
        Assert.Equal((SessionStatus.PaymentPending, "first", "pm_first"), (held!.Session.Status, held.Session.CheckoutClaimId, held.Session.PaymentMethodId));
        Assert.Equal("second", takenOver!.Session.CheckoutClaimId);
    }

    private static readonly ShippingAddress ShippingAddressForTests = new("1 Main St", null, "Springfield", "IL", "62701", "US");

    [Fact]
    public async Task Change_WhileTheExpiryIndexIsDown_StillLands_AndTheEarlierEntryLeadsTheSweepToIt()
    {
        var session = await NewSessionAsync();
        var createdExpiry = _clock.GetUtcNow() + Ttl;
        var indexDown = new SessionStore(new FaultyTables(Tables, call => call.IsIndex), _clock, NullLogger<SessionStore>.Instance);
        _clock.Advance(TimeSpan.FromSeconds(60));

        var changed = await indexDown.ChangeAsync(session.SessionId, s => s with { PaymentMethodId = "pm_1" }, Ttl, CancellationToken.None);
        // The Redis server is shared with the run's other tests, whose sessions may fall due earlier: look past all of them.
        var due = await Store.DueAsync(createdExpiry, 1_000_000, CancellationToken.None);

        Assert.Equal("pm_1", changed!.Session.PaymentMethodId);
        Assert.Contains(due, d => d.SessionId == session.SessionId); // due early: the sweep finds it renewed and moves it on
    }

    [Fact]
    public async Task Create_ThenGet_ReturnsTheSession()
    {
        var session = await NewSessionAsync();

        var stored = await Store.GetAsync(session.SessionId, CancellationToken.None);

        Assert.Equal(session.SessionId, stored!.Session.SessionId);
        Assert.Equal(session.TokenHash, stored.Session.TokenHash);
        Assert.Equal((_clock.GetUtcNow() + Ttl).ToUnixTimeMilliseconds(), stored.ExpiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Change_RenewsTheTtl_AndReadsDoNot()
    {
        var session = await NewSessionAsync();
        _clock.Advance(TimeSpan.FromSeconds(800));
        await Store.ChangeAsync(session.SessionId, s => s with { PaymentMethodId = "pm_1" }, Ttl, CancellationToken.None);

        _clock.Advance(TimeSpan.FromSeconds(899));
        Assert.NotNull(await Store.GetAsync(session.SessionId, CancellationToken.None));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await Store.GetAsync(session.SessionId, CancellationToken.None));
        Assert.Null(await Store.ChangeAsync(session.SessionId, s => s, Ttl, CancellationToken.None));
    }

    [Fact]
    public async Task Change_TenTabsAtOnce_LoseNoUpdate()
    {
        var session = await NewSessionAsync();

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() => Store.ChangeAsync(session.SessionId,
            s => s with { Cart = s.Cart with { Items = [.. s.Cart.Items, new CartItemView($"SKU-{i}", "x", Money.Zero, 1, Money.Zero)] } },
            Ttl, CancellationToken.None))));

        var stored = await Store.GetAsync(session.SessionId, CancellationToken.None);
        Assert.Equal(10, stored!.Session.Cart.Items.Count);
        Assert.Equal(11, stored.Session.Version);
    }

    [Fact]
    public async Task Change_Refused_LeavesTheSessionAsItIs()
    {
        var session = await NewSessionAsync();
        var result = await Store.ChangeAsync(session.SessionId, _ => null, Ttl, CancellationToken.None);
        Assert.Equal(1, result!.Session.Version);
    }
}

public sealed class InMemorySessionStoreTests() : SessionStoreContract(StateBackends.InMemory);

public sealed class RedisSessionStoreTests(RedisServers redis) : SessionStoreContract(StateBackends.Redis(redis.Standalone.Url));

public sealed class RedisClusterSessionStoreTests(RedisServers redis) : SessionStoreContract(StateBackends.Redis(redis.ClusterUrl));
