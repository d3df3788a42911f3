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
