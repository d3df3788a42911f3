using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// A shopper pays in one tab and, while that payment runs, presses Pay in another: the second is
/// told a checkout is in progress, and the session stays with the payment that is running (it is
/// neither taken over nor reopened for editing by the tab that lost), in process and on Redis.
/// </summary>
public sealed class SecondTabTests(RedisServers redis)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Checkout_FromASecondTabWhileTheFirstPays_Is409_AndTheSessionStaysWithTheFirst(bool onRedis)
    {
        await using var app = new CheckoutApp();
        if (onRedis)
        {
            app.Settings["REDIS_URL"] = redis.Standalone.Url;
        }
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        app.Gateway.Latency = TimeSpan.FromSeconds(2);

        var first = shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token);
        await app.Gateway.WaitForCallAsync(_ => true).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var second = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_second_tab"), token);
        var whilePaying = await shopper.GetSessionAsync(sessionId, token);
        var paid = await first;
        var afterwards = await shopper.GetSessionAsync(sessionId, token);

        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("CHECKOUT_IN_PROGRESS", second.Error);
        Assert.Equal("payment_pending", (string?)whilePaying.Body!["status"]);
        Assert.Equal(HttpStatusCode.Created, paid.Status);
        Assert.Equal("completed", (string?)afterwards.Body!["status"]);
        Assert.Single(app.Gateway.Ledger(cartId).Intents);
    }
}
