using System.Net.Sockets;
using System.Text;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// A body that ends in the middle of its JSON gets its 400 and leaves the connection clean: the
/// body reader is not left mid-read for Kestrel's next read of the connection to trip over
/// ("Reading is already in progress"), which ASP.NET Core 10's pipe-based JSON binding did.
/// </summary>
public sealed class BrokenBodyConnectionTests : IAsyncDisposable
{
    private readonly CheckoutApp _app = new()
    {
        ReplaceServices = services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()),
    };

    public BrokenBodyConnectionTests() => _app.Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Theory]
    [InlineData("/api/v2/carts", """{"items":[{"sku":"SKU-MUG-12OZ","quantity":1},""")]
    [InlineData("/api/v2/checkout/guest", """{"cart_id":"cart_abc","email":""")]
    public async Task TruncatedBodies_Are400_AndNoConnectionEndsAbnormally(string path, string body)
    {
        using var shopper = _app.Shopper(); // starts the host
        var address = shopper.Http.BaseAddress!;
        var collector = _app.Services.GetFakeLogCollector();
        for (var i = 0; i < 300; i++)
        {
            // As curl does: one request, read the answer, close; Kestrel races the close with its next read.
            using var client = new TcpClient();
            await client.ConnectAsync(address.Host, address.Port, TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            var request = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(request), TestContext.Current.CancellationToken);
            var answer = new byte[4096];
            var read = await stream.ReadAsync(answer, TestContext.Current.CancellationToken);
            Assert.StartsWith("HTTP/1.1 400", Encoding.UTF8.GetString(answer, 0, read), StringComparison.Ordinal);
        }

        // Kestrel says when it is done with each connection; wait for all sixty, not for a guessed while.
        Assert.True(await Eventually.TrueAsync(
            () => collector.GetSnapshot().Count(r => r.Message.EndsWith("\" stopped.", StringComparison.Ordinal)) >= 300, TimeSpan.FromSeconds(30)));
        var abnormal = collector.GetSnapshot()
            .Where(r => r.Message.Contains("ended abnormally", StringComparison.Ordinal) || r.Exception is InvalidOperationException).ToList();
        Assert.Empty(abnormal.Select(r => r.Message + " " + r.Exception?.Message));
    }
}

/// <summary>
/// A checkout the rate limit refuses has had its body read like any other, however the body came,
/// so the 429 leaves the connection clean for the client's next request. Before the body was read
/// once, the refusal raced the read-ahead's read and Kestrel dropped the connection.
/// </summary>
public sealed class RefusedBodyConnectionTests : IAsyncDisposable
{
    private readonly CheckoutApp _app = new()
    {
        ReplaceServices = services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()),
    };

    public RefusedBodyConnectionTests()
    {
        _app.Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
        _app.Settings["RATE_LIMIT_CHECKOUT_PER_MINUTE"] = "1";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public static TheoryData<BodyDelivery> Deliveries => [.. Enum.GetValues<BodyDelivery>()];

    [Theory]
    [MemberData(nameof(Deliveries))]
    public async Task A429_ReadsTheBody_AndTheConnectionCarriesTheNextRequest(BodyDelivery delivery)
    {
        using var shopper = _app.Shopper(); // starts the host
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        using var connection = await RawHttpConnection.OpenAsync(shopper.Http.BaseAddress!, TestContext.Current.CancellationToken);
        (string, string)[] from = [("X-Forwarded-For", $"10.7.0.{(int)delivery + 1}")];
        var body = ShopperClient.CheckoutBody(cartId).ToJsonString();

        var first = await connection.SendAsync("POST", "/api/v2/checkout/guest", body, delivery, from, cancellationToken: TestContext.Current.CancellationToken);
        var refused = new List<RawReply>();
        for (var i = 0; i < 3; i++)
        {
            refused.Add(await connection.SendAsync("POST", "/api/v2/checkout/guest", body, delivery, from, cancellationToken: TestContext.Current.CancellationToken));
        }
        var after = await connection.SendAsync("GET", "/api/v2/products", null, delivery, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(201, first.Status);
        Assert.All(refused, r => Assert.Equal((429, "RATE_LIMITED"), (r.Status, (string?)r.Json?["error"])));
        Assert.All(refused, r => Assert.True(r.Headers.ContainsKey("Retry-After")));
        Assert.Equal(200, after.Status);
        Assert.True(connection.IsReusable);
        var collector = _app.Services.GetFakeLogCollector();
        Assert.DoesNotContain(collector.GetSnapshot(), r => r.Message.Contains("draining", StringComparison.OrdinalIgnoreCase) || r.Message.Contains("ended abnormally", StringComparison.Ordinal));
    }
}
