using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Flags;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>guest_checkout_v2: sticky buckets, targeting by region, the page honouring it, operators' changes reaching every replica, and off when its store is unreachable.</summary>
public sealed class FlagTests(PostgresServer postgres) : IAsyncDisposable
{
    private readonly List<CheckoutApp> _apps = [];

    private CheckoutApp App(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? replace = null)
    {
        var app = new CheckoutApp { ReplaceServices = replace };
        foreach (var (key, value) in settings ?? [])
        {
            app.Settings[key] = value;
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

    private static async Task<JsonNode> ReadFlagAsync(HttpClient visitor, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/flags/guest_checkout_v2");
        configure?.Invoke(request);
        using var response = await visitor.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>A browser that does not follow redirects, so the gate's answer can be read.</summary>
    private static HttpClient Browser(CheckoutApp app)
    {
        using var started = app.CreateClient(); // starts the host on Kestrel and says where
#pragma warning disable CA5399 // a test client of a local host; no revocation to check
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = started.BaseAddress };
#pragma warning restore CA5399
    }

    [Fact]
    public async Task AVisitor_GetsACookieOnTheFirstVisit_AndStaysInOneArm()
    {
        using var visitor = Browser(App());

        var first = await ReadFlagAsync(visitor);
        var again = await ReadFlagAsync(visitor);

        Assert.True((bool)first["enabled"]!);
        Assert.Equal("in_rollout", (string?)first["reason"]);
        Assert.InRange((int)first["bucket"]!, 0, 99);
        Assert.Equal((int)first["bucket"]!, (int)again["bucket"]!);
    }

    [Fact]
    public async Task Targeting_IsTheRegionAndTheBucket_AndTheRegionHeaderCountsOnlyFromATrustedProxy()
    {
        var app = App(new()
        {
            ["GUEST_CHECKOUT_V2_PERCENT"] = "50", ["GUEST_CHECKOUT_V2_REGIONS"] = "us-east-1", ["REGION"] = "eu-west-1", ["REGION_HEADER"] = "X-Edge-Region",
        });
        using var visitor = Browser(app);
        Assert.Equal("region_not_targeted", (string?)(await ReadFlagAsync(visitor))["reason"]);

        var fromEdge = await ReadFlagAsync(visitor, r => r.Headers.Add("X-Edge-Region", "us-east-1"));
        var bucket = (int)fromEdge["bucket"]!;
        Assert.Equal(bucket < 50, (bool)fromEdge["enabled"]!);
        Assert.Equal(bucket < 50 ? "in_rollout" : "bucket_outside_rollout", (string?)fromEdge["reason"]);

        var served = 0;
        for (var i = 0; i < 100; i++) // under the endpoint's 120 reads a minute
        {
            using var newcomer = Browser(app);
            served += (bool)(await ReadFlagAsync(newcomer, r => r.Headers.Add("X-Edge-Region", "us-east-1")))["enabled"]! ? 1 : 0;
        }
        Assert.InRange(served, 25, 75); // about half of the buckets

        var untrusting = App(new() { ["GUEST_CHECKOUT_V2_REGIONS"] = "us-east-1", ["REGION"] = "eu-west-1", ["REGION_HEADER"] = "X-Edge-Region", ["TRUSTED_PROXIES"] = "10.0.0.1" });
        using var direct = Browser(untrusting);
        Assert.Equal("region_not_targeted", (string?)(await ReadFlagAsync(direct, r => r.Headers.Add("X-Edge-Region", "us-east-1")))["reason"]);
        // Trust is the TCP peer's: a client that names a trusted proxy in a header of its own is still not one.
        Assert.Equal("region_not_targeted", (string?)(await ReadFlagAsync(direct, r =>
        {
            r.Headers.Add("X-Edge-Region", "us-east-1");
            r.Headers.Add("X-Original-For", "10.0.0.1:443");
        }))["reason"]);
    }

    [Fact]
    public async Task KillingTheFlag_TurnsNewVisitorsAway_OnEveryReplica_WithinASecond_WhileCheckoutsUnderWayFinish()
    {
        var database = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?> { ["DATABASE_URL"] = database, ["LEGACY_CHECKOUT_URL"] = "https://www.vantage.com/checkout?from=v2" };
        var (first, second) = (App(settings), App(settings));
        using var underWay = Browser(first);
        using var shopper = first.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        Assert.Equal(HttpStatusCode.OK, (await underWay.GetAsync($"/checkout/guest?cart_id={cartId}", TestContext.Current.CancellationToken)).StatusCode);

        using var output = new StringWriter();
        Assert.Equal(0, await FlagsCommand.RunAsync(first.Services, ["flags", "kill", "--by", "test-operator"], output, TestContext.Current.CancellationToken));
        // From the moment the change is stored (the command's own write and audit are not the replicas' delay).
        var killedAt = TimeProvider.System.GetTimestamp();
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var a = Browser(first);
            using var b = Browser(second);
            return !(bool)(await ReadFlagAsync(a))["enabled"]! && !(bool)(await ReadFlagAsync(b))["enabled"]!;
        }, TimeSpan.FromSeconds(5)));
        var applied = TimeProvider.System.GetElapsedTime(killedAt);
        TestContext.Current.TestOutputHelper?.WriteLine($"kill applied on both replicas after {applied.TotalMilliseconds:F0} ms");
        Assert.True(applied < TimeSpan.FromSeconds(1), $"the kill took {applied.TotalMilliseconds:F0} ms to reach both replicas");

        using var newcomer = Browser(second);
        var turnedAway = await newcomer.GetAsync($"/checkout/guest?cart_id={cartId}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, turnedAway.StatusCode);
        Assert.Equal($"https://www.vantage.com/checkout?from=v2&cart_id={cartId}", turnedAway.Headers.Location!.ToString());
        Assert.Equal("killed", (string?)(await ReadFlagAsync(newcomer))["reason"]);
        Assert.Equal(HttpStatusCode.OK, (await underWay.GetAsync($"/checkout/guest?cart_id={cartId}", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Changes_AreRampStepsOnly_AndEachIsAuditedWithWhoAndWhen()
    {
        var app = App();
        using var _ = app.Shopper();
        using var output = new StringWriter();

        Assert.Equal(FlagsCommand.Usage, await FlagsCommand.RunAsync(app.Services, ["flags", "set", "guest_checkout_v2", "--percent", "30"], output, CancellationToken.None));
        Assert.Equal(0, await FlagsCommand.RunAsync(app.Services,
            ["flags", "set", "guest_checkout_v2", "--percent", "25", "--regions", "us-east-1,eu-west-1", "--by", "alice"], output, CancellationToken.None));
        Assert.Equal(0, await FlagsCommand.RunAsync(app.Services, ["flags", "kill", "--by", "bob"], output, CancellationToken.None));
        using var shown = new StringWriter();
        Assert.Equal(0, await FlagsCommand.RunAsync(app.Services, ["flags", "show"], shown, CancellationToken.None));

        var lines = shown.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("killed (version 2)", lines[0], StringComparison.Ordinal);
        Assert.Contains("bob: on for 25% in us-east-1,eu-west-1 (version 1) -> killed (version 2)", lines[1], StringComparison.Ordinal);
        Assert.Contains("alice: on for 100% in * (version 0) -> on for 25% in us-east-1,eu-west-1 (version 1)", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenTheFlagsStoreCannotBeRead_TheFlagIsOff()
    {
        var app = App(replace: services => services.AddSingleton<IFlagStore, UnreachableStore>());
        using var visitor = Browser(app);

        var decision = await ReadFlagAsync(visitor);

        Assert.False((bool)decision["enabled"]!);
        Assert.Equal("flag_source_unreachable", (string?)decision["reason"]);
    }

    private sealed class UnreachableStore : IFlagStore
    {
        public Task<FlagState?> GetAsync(string name, CancellationToken cancellationToken) => throw new TimeoutException("flag store down");

        public Task SaveAsync(FlagState state, string change, CancellationToken cancellationToken) => throw new TimeoutException("flag store down");

        public Task<IReadOnlyList<FlagChange>> HistoryAsync(string name, int limit, CancellationToken cancellationToken) => throw new TimeoutException("flag store down");
    }
}
