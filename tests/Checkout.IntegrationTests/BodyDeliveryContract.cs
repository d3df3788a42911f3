using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stripe;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// Every JSON endpoint over a real Kestrel socket, its bodies sent as clients really send them:
/// with the headers, after them, on <c>Expect: 100-continue</c>, chunked, a byte at a time. Each
/// body is read once (docs/decisions/0012); a second reader racing the first turned valid
/// checkouts into 400s and 500s, and only a body that arrives after its headers shows it.
/// </summary>
public abstract class BodyDeliveryContract : IAsyncLifetime
{
    private const string WebhookSecret = "whsec_body_delivery_0a9b8c7d6e5f";
    private const string Password = "correct horse battery staple";
    private static readonly BodyDelivery[] Deliveries = Enum.GetValues<BodyDelivery>();

    private CheckoutApp _app = null!;
    private readonly ConcurrentBag<string> _wrong = [];
    private readonly ConcurrentDictionary<(string Endpoint, BodyDelivery Delivery), int> _counts = new();
    private readonly ConcurrentDictionary<string, int> _sent = new(StringComparer.Ordinal);

    /// <summary>Shoppers through the funnel; each pays once, so this is the number of checkouts.</summary>
    protected abstract int Funnels { get; }

    protected virtual void Configure(CheckoutApp app)
    {
    }

    /// <summary>The host the funnels run against; a subclass may build it otherwise (its logging, say).</summary>
    protected virtual CheckoutApp NewApp() => new();

    /// <summary>Every bearer secret and password the funnels used or were given: what no log line may hold.</summary>
    protected ConcurrentBag<string> Secrets { get; } = [Password];

    /// <summary>Runs after every funnel got its answer, on the same host.</summary>
    protected virtual void AfterFunnels(CheckoutApp app)
    {
    }

    public ValueTask InitializeAsync()
    {
        _app = NewApp();
        _app.Settings["STRIPE_WEBHOOK_SECRET"] = WebhookSecret;
        // Clients arrive from many addresses through the trusted proxy, so the per-IP limits (10 a minute on accounts) stay out of the way.
        _app.Settings["TRUSTED_PROXIES"] = "127.0.0.1/32";
        Configure(_app);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task EveryValidRequest_GetsItsAnswer_HoweverItsBodyArrives()
    {
        using var shopper = _app.Shopper(); // starts the host
        var address = shopper.Http.BaseAddress!;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            RawHttpConnection? connection = null;
            try
            {
                for (var funnel = Interlocked.Increment(ref next); funnel < Funnels; funnel = Interlocked.Increment(ref next))
                {
                    connection = await FunnelAsync(connection, address, funnel);
                }
            }
            finally
            {
                connection?.Dispose();
            }
        }));

        var counts = string.Join("\n", _counts.GroupBy(c => c.Key.Endpoint).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            $"{g.Key}: {g.Sum(c => c.Value)} ({string.Join(", ", g.OrderBy(c => c.Key.Delivery).Select(c => $"{c.Key.Delivery} {c.Value}"))})"));
        TestContext.Current.TestOutputHelper?.WriteLine(counts);
        Assert.True(_wrong.IsEmpty, $"{_wrong.Count} wrong answers, among them:\n" + string.Join("\n", _wrong.Take(20)));
        Assert.Equal(Funnels, _counts.Where(c => c.Key.Endpoint == "checkout").Sum(c => c.Value));
        Assert.All(_counts.GroupBy(c => c.Key.Endpoint), endpoint => Assert.Equal(Deliveries.Length, endpoint.Count()));
        AfterFunnels(_app);
    }

    /// <summary>One shopper: a cart, a session with both sections, a payment; for every fourth, an account, a beacon, a webhook and a broken body too.</summary>
    private async Task<RawHttpConnection> FunnelAsync(RawHttpConnection? connection, Uri address, int funnel)
    {
        var client = $"10.{funnel / 65536 % 256}.{funnel / 256 % 256}.{funnel % 256}";
        var email = $"body.{funnel}.{Guid.NewGuid():N}@example.com";
        async Task<RawReply?> Send(string endpoint, string method, string path, string body, int expected, string? token = null,
            (string, string)[]? extra = null, string contentType = "application/json")
        {
            // Each endpoint turns through the modes on its own count, so every one meets all five however the workers interleave.
            var delivery = Deliveries[_sent.AddOrUpdate(endpoint, 0, (_, n) => n + 1) % Deliveries.Length];
            if (connection is not { IsReusable: true })
            {
                connection?.Dispose();
                connection = await RawHttpConnection.OpenAsync(address, TestContext.Current.CancellationToken);
            }
            List<(string, string)> headers = [("X-Forwarded-For", client), .. extra ?? []];
            if (token is not null)
            {
                headers.Add(("Authorization", "Bearer " + token));
            }
            RawReply reply;
            try
            {
                reply = await connection.SendAsync(method, path, body, delivery, headers, contentType, TestContext.Current.CancellationToken);
            }
            catch (IOException e)
            {
                _wrong.Add($"{endpoint} {delivery}: connection lost ({e.Message})");
                connection.Dispose();
                connection = null;
                return null;
            }
            _counts.AddOrUpdate((endpoint, delivery), 1, (_, n) => n + 1);
            var right = expected == 400 ? reply.Status is 400 or 422 : reply.Status == expected;
            if (!right)
            {
                _wrong.Add($"{endpoint} {delivery}: expected {expected}, got {reply}");
                return null;
            }
            return reply;
        }

        var cart = await Send("cart-create", "POST", "/api/v2/carts", """{"items":[{"sku":"SKU-MUG-12OZ","quantity":1}]}""", 201);
        var cartId = (string?)cart?.Json?["cart_id"];
        if (cartId is null)
        {
            return connection!;
        }
        await Send("cart-item", "PUT", $"/api/v2/carts/{cartId}/items/SKU-CHARGER-65W", """{"quantity":2}""", 200);
        var session = await Send("session-start", "POST", "/api/v2/checkout/guest/session", Json(new() { ["cart_id"] = cartId, ["email"] = email }), 201);
        var (sessionId, token) = ((string?)session?.Json?["session_id"], (string?)session?.Json?["session_token"]);
        if (sessionId is null || token is null)
        {
            return connection!;
        }
        Secrets.Add(token);
        await Send("session-address", "PUT", $"/api/v2/checkout/guest/session/{sessionId}/shipping-address",
            Json(new() { ["shipping_address"] = ShopperClient.Springfield.DeepClone() }), 200, token);
        await Send("session-payment", "PUT", $"/api/v2/checkout/guest/session/{sessionId}/payment-method", """{"payment_method_id":"pm_card_visa"}""", 200, token);
        var paid = await Send("checkout", "POST", "/api/v2/checkout/guest", Json(new() { ["cart_id"] = cartId, ["email"] = email }), 201, token,
            funnel % 2 == 0 ? [("Idempotency-Key", Guid.NewGuid().ToString())] : []);
        if ((string?)paid?.Json?["confirmation_token"] is { } confirmationToken)
        {
            Secrets.Add(confirmationToken);
        }
        if (funnel % 4 != 0 || paid?.Json is not { } order)
        {
            return connection!;
        }

        // The other JSON endpoints, for every fourth shopper.
        await Send("checkout-malformed", "POST", "/api/v2/checkout/guest", $$"""{"cart_id":"{{cartId}}","email":""", 400);
        var account = await Send("account-create", "POST", "/api/v2/accounts",
            Json(new() { ["order_id"] = (string?)order["order_id"], ["confirmation_token"] = (string?)order["confirmation_token"], ["password"] = Password }), 201);
        if ((string?)account?.Json?["account_id"] is { } accountId)
        {
            await Send("account-verify", "POST", $"/api/v2/accounts/{accountId}/verify-email", """{"code":"not-the-code"}""", 422);
        }
        var signedIn = await Send("account-sign-in", "POST", "/api/v2/accounts/sessions", Json(new() { ["email"] = email, ["password"] = Password }), 200);
        if ((string?)signedIn?.Json?["access_token"] is { } accessToken)
        {
            Secrets.Add(accessToken);
        }
        await Send("analytics", "POST", "/api/v2/analytics/events", Json(new() { ["name"] = "checkout_viewed", ["cart_id"] = cartId, ["flow"] = "guest" }), 202,
            contentType: "text/plain;charset=UTF-8");
        var stripeEvent = Json(new()
        {
            ["id"] = "evt_" + Guid.NewGuid().ToString("N"),
            ["object"] = "event",
            ["type"] = "payment_intent.created",
            ["data"] = new JsonObject { ["object"] = new JsonObject { ["id"] = "pi_" + Guid.NewGuid().ToString("N"), ["object"] = "payment_intent" } },
        });
        var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        await Send("webhook", "POST", "/webhooks/stripe/guest-checkout", stripeEvent, 200,
            extra: [("Stripe-Signature", $"t={timestamp},v1={EventUtility.ComputeSignature(WebhookSecret, timestamp, stripeEvent)}")]);
        return connection!;
    }

    private static string Json(JsonObject value) => value.ToJsonString();
}

public sealed class InProcessBodyDeliveryTests : BodyDeliveryContract
{
    protected override int Funnels => 1000;
}

public sealed class RedisBodyDeliveryTests(RedisServers redis) : BodyDeliveryContract
{
    protected override int Funnels => 400;

    protected override void Configure(CheckoutApp app) => app.Settings["REDIS_URL"] = redis.Standalone.EndPoint;
}

/// <summary>
/// The funnels' traffic, every endpoint of it, with every log category at Trace (ASP.NET Core's own
/// included): no line holds a session, confirmation or access token, or the password.
/// </summary>
public sealed class TraceLoggedBodyDeliveryTests : BodyDeliveryContract
{
    protected override int Funnels => 100;

    protected override CheckoutApp NewApp()
    {
        var app = new CheckoutApp
        {
            ReplaceServices = services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()),
        };
        foreach (var category in (string[])["Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.AspNetCore.Hosting.Diagnostics", "System", "Polly"])
        {
            app.Settings[$"Logging:LogLevel:{category}"] = "Trace";
        }
        return app;
    }

    protected override void AfterFunnels(CheckoutApp app)
    {
        var records = app.Services.GetFakeLogCollector().GetSnapshot();
        Assert.Contains(records, r => r.Level == LogLevel.Trace);
        var secrets = Secrets.ToHashSet(StringComparer.Ordinal);
        Assert.True(secrets.Count > Funnels, $"only {secrets.Count} secrets were handed out");
        foreach (var record in records)
        {
            var line = $"{record.Category} {record.Message} {string.Join(" ", record.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])} {record.Exception}";
            Assert.DoesNotContain(secrets, secret => line.Contains(secret, StringComparison.Ordinal));
        }
    }
}
