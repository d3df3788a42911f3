using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>
/// Redis round trips per request, measured as a far region would feel them: the service reaches
/// redis-server through a proxy that adds 40 ms to each answer, so a request's time counts its round trips.
/// </summary>
public sealed class RoundTripTests(RedisServers redis)
{
    private static readonly TimeSpan Added = TimeSpan.FromMilliseconds(40);

    [Fact]
    public async Task ASessionRead_CostsOneRedisRoundTrip()
    {
        var server = await redis.StartStandaloneAsync();
        await using var proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, server.Port), Added);
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = $"127.0.0.1:{proxy.EndPoint.Port}";
        using var shopper = app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId);
        Assert.Equal(HttpStatusCode.OK, (await shopper.GetSessionAsync(sessionId, token)).Status); // warm: connections, JIT

        var reads = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var started = TimeProvider.System.GetTimestamp();
            Assert.Equal(HttpStatusCode.OK, (await shopper.GetSessionAsync(sessionId, token)).Status);
            reads.Add(TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        }
        var checkoutStarted = TimeProvider.System.GetTimestamp();
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token)).Status);
        var checkout = TimeProvider.System.GetElapsedTime(checkoutStarted).TotalMilliseconds;

        var fastest = reads.Min();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"with {Added.TotalMilliseconds} ms added per Redis round trip: session read {fastest:F0} ms (≈{fastest / Added.TotalMilliseconds:F1} round trips), " +
            $"checkout {checkout:F0} ms (≈{checkout / Added.TotalMilliseconds:F1} round trips)");
        // At least the one delayed answer (less 5 ms of timer slack: the proxy's delay can fire a
        // millisecond early), and clearly less than two.
        Assert.InRange(fastest, Added.TotalMilliseconds - 5, 2 * Added.TotalMilliseconds - 5);
    }
}
