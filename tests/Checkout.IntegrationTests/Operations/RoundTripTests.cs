using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>
/// Redis round trips per request, measured as a far region would feel them: the service reaches
/// redis-server through a proxy that adds 40 ms to each answer, so a request's time counts its round trips.
/// </summary>
public sealed class RoundTripTests(RedisServers redis)
{
    private static readonly TimeSpan Added = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task ASessionRead_CostsOneRoundTrip_AndACheckoutThree()
    {
        var server = await redis.StartStandaloneAsync();
        await using var proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, server.Port), Added);
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = $"127.0.0.1:{proxy.EndPoint.Port}";
        using var shopper = app.Shopper();
        var reads = new List<double>();
        var checkouts = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
            var (sessionId, token) = await shopper.StartSessionAsync(cartId);
            Assert.Equal(HttpStatusCode.OK, (await shopper.GetSessionAsync(sessionId, token)).Status); // the first warms connections and JIT
            reads.Add(await TimeAsync(async () => Assert.Equal(HttpStatusCode.OK, (await shopper.GetSessionAsync(sessionId, token)).Status)));
            checkouts.Add(await TimeAsync(async () => Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(
                ShopperClient.CheckoutBody(cartId), token, r => r.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString()))).Status)));
        }

        var read = reads.Min();
        var checkout = checkouts.Skip(1).Min(); // the first checkout also warms the order store
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"with {Added.TotalMilliseconds} ms added per Redis round trip: session read {read:F0} ms (≈{read / Added.TotalMilliseconds:F1} round trips), " +
            $"checkout with Idempotency-Key {checkout:F0} ms (≈{checkout / Added.TotalMilliseconds:F1} round trips)");
        // At least the delayed answers (less 5 ms of timer slack: the proxy's delay can fire a
        // millisecond early each time), and clearly less than one more.
        Assert.InRange(read, Added.TotalMilliseconds - 5, 2 * Added.TotalMilliseconds - 5);
        Assert.InRange(checkout, 3 * Added.TotalMilliseconds - 15, 4 * Added.TotalMilliseconds - 5);
    }

    /// <summary>
    /// The checkout reads its cart ahead from the body's one buffer, so the body's way of arriving
    /// (chunked, late, on 100-continue) costs no round trip: before the buffer, a chunked body skipped the read-ahead.
    /// </summary>
    [Theory]
    [InlineData(BodyDelivery.Chunked)]
    [InlineData(BodyDelivery.ExpectContinue)]
    public async Task ACheckout_CostsThreeRoundTrips_HoweverItsBodyArrives(BodyDelivery delivery)
    {
        var server = await redis.StartStandaloneAsync();
        await using var proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, server.Port), Added);
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = $"127.0.0.1:{proxy.EndPoint.Port}";
        using var shopper = app.Shopper();
        using var connection = await RawHttpConnection.OpenAsync(shopper.Http.BaseAddress!, TestContext.Current.CancellationToken);
        var checkouts = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
            var (_, token) = await shopper.StartSessionAsync(cartId);
            checkouts.Add(await TimeAsync(async () => Assert.Equal(201, (await connection.SendAsync("POST", "/api/v2/checkout/guest",
                ShopperClient.CheckoutBody(cartId).ToJsonString(), delivery,
                [("Authorization", "Bearer " + token), ("Idempotency-Key", Guid.NewGuid().ToString())], cancellationToken: TestContext.Current.CancellationToken)).Status)));
        }

        var checkout = checkouts.Skip(1).Min();
        TestContext.Current.TestOutputHelper?.WriteLine($"{delivery}: checkout {checkout:F0} ms (≈{checkout / Added.TotalMilliseconds:F1} round trips)");
        Assert.InRange(checkout, 3 * Added.TotalMilliseconds - 15, 4 * Added.TotalMilliseconds - 5);
    }

    private static async Task<double> TimeAsync(Func<Task> request)
    {
        var started = TimeProvider.System.GetTimestamp();
        await request();
        return TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
    }
}
