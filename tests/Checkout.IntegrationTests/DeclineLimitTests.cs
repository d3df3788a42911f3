using System.Globalization;
using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>Card testing is bounded: after enough declines, checkouts are refused before they reach the gateway.</summary>
public sealed class DeclineLimitTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(CheckoutApp.TraceMorning);
    private readonly CheckoutApp _app;

    public DeclineLimitTests()
    {
        _app = new CheckoutApp { Clock = _clock };
        // The defaults, which the test host otherwise raises for every other test.
        _app.Settings["RATE_LIMIT_DECLINES_PER_CART"] = "5";
        _app.Settings["RATE_LIMIT_DECLINES_PER_IP_PER_HOUR"] = "20";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static Action<HttpRequestMessage> From(string ip) => r => r.Headers.Add("X-Forwarded-For", ip);

    [Fact]
    public async Task Checkout_FiveDeclinesOnACartFromChangingIps_ThenTooManyDeclinesForFifteenMinutes_WithoutAnIntent()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-LAMP-DESK", 1));
        for (var i = 0; i < 5; i++)
        {
            var declined = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, $"pm_card{i}_declined"), configure: From($"198.51.100.{i + 1}"));
            Assert.Equal("PAYMENT_DECLINED", declined.Error);
        }

        var refused = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: From("203.0.113.9"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("TOO_MANY_DECLINES", refused.Error);
        Assert.NotNull((string?)refused.Body!["request_id"]);
        Assert.Equal(900, int.Parse(refused.Header("Retry-After")!, CultureInfo.InvariantCulture));
        Assert.Equal(5, _app.Gateway.Ledger(cartId).Intents.Count);
        Assert.Equal(0, _app.Gateway.Ledger(cartId).Charges);
        Assert.Equal(1, _app.Services.GetRequiredService<CheckoutMetrics>().DeclineLimitRefusals.WithLabels("cart").Value);

        _clock.Advance(TimeSpan.FromMinutes(14));
        var stillRefused = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: From("203.0.113.10"));
        Assert.Equal("TOO_MANY_DECLINES", stillRefused.Error);
        Assert.Equal(60, int.Parse(stillRefused.Header("Retry-After")!, CultureInfo.InvariantCulture));

        _clock.Advance(TimeSpan.FromMinutes(1));
        var paid = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: From("203.0.113.11"));
        Assert.Equal(HttpStatusCode.Created, paid.Status);
    }

    [Fact]
    public async Task Checkout_TooManyDeclines_DoesNotSpendTheIdempotencyKey()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-LAMP-DESK", 1));
        for (var i = 0; i < 5; i++)
        {
            await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, $"pm_card{i}_declined"));
        }
        var key = Guid.NewGuid().ToString();
        void WithKey(HttpRequestMessage r) => r.Headers.Add("Idempotency-Key", key);

        var refused = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: WithKey);
        _clock.Advance(TimeSpan.FromMinutes(15));
        var paid = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: WithKey);

        Assert.Equal("TOO_MANY_DECLINES", refused.Error);
        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.Null(paid.Header("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Checkout_TwentyDeclinesFromOneIpOnManyCarts_ThenTooManyDeclinesFromThatIpOnly()
    {
        using var shopper = _app.Shopper();
        for (var i = 0; i < 20; i++)
        {
            var cart = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
            Assert.Equal("PAYMENT_DECLINED", (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cart, "pm_test_declined"), configure: From("203.0.113.66"))).Error);
            _clock.Advance(TimeSpan.FromMinutes(2)); // 40 minutes in all: within the hour
        }
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));

        var refused = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: From("203.0.113.66"));
        var otherClient = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"), configure: From("198.51.100.7"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("TOO_MANY_DECLINES", refused.Error);
        Assert.InRange(int.Parse(refused.Header("Retry-After")!, CultureInfo.InvariantCulture), 1, 3600);
        Assert.Equal(1, _app.Services.GetRequiredService<CheckoutMetrics>().DeclineLimitRefusals.WithLabels("ip").Value);
        Assert.Equal(HttpStatusCode.Created, otherClient.Status);
    }

    [Fact]
    public async Task Checkout_FourDeclinesOnACart_ThenAGoodCardStillPays()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-LAMP-DESK", 1));
        for (var i = 0; i < 4; i++)
        {
            await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, $"pm_card{i}_declined"));
        }

        var paid = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_good"));

        Assert.Equal(HttpStatusCode.Created, paid.Status);
    }
}
