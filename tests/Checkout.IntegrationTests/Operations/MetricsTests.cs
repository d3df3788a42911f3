using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>/metrics as Prometheus scrapes it: its own port, the classic text format whatever is asked, the known series at 0 from the start.</summary>
public sealed class MetricsTests : IAsyncDisposable
{
    private readonly CheckoutApp _app = new();

    public MetricsTests() => _app.Settings["METRICS_URL"] = "http://127.0.0.1:0";

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<(HttpResponseMessage Response, string Body)> ScrapeAsync()
    {
        using var shopper = _app.Shopper(); // starts the host
        using var scraper = new HttpClient { BaseAddress = _app.Services.GetRequiredService<MetricsEndpoint>().Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        // What Prometheus 2.x sends: OpenMetrics first.
        request.Headers.Accept.ParseAdd("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        var response = await scraper.SendAsync(request, TestContext.Current.CancellationToken);
        return (response, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TheScrape_IsClassicText_WithTheDashboardsNames_AndEveryKnownSeriesAtZero()
    {
        var (response, body) = await ScrapeAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(response.Content.Headers.ContentType.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        foreach (var series in (string[])[
                     "checkout_started{flow=\"guest_v2\",region=\"local\"} 0", "checkout_started{flow=\"legacy\",region=\"local\"} 0",
                     "checkout_completed{flow=\"guest_v2\",region=\"local\"} 0", "checkout_errors{flow=\"guest_v2\",error_code=\"PAYMENT_GATEWAY_UNAVAILABLE\"} 0",
                     "payment_intent_errors{checkout_type=\"guest\",error_code=\"timeout\"} 0", "payment_intent_errors{checkout_type=\"guest\",error_code=\"502\"} 0",
                     "checkout_completion_duration_seconds_count{flow=\"guest_v2\"} 0", "launchdarkly_flag_evaluation{flag=\"guest_checkout_v2\",variation=\"true\"} 0",
                     "redis_evicted_keys_total{cluster=\"checkout-sessions-prod\"} 0", "redis_keys{pattern=\"guest:sess:*\"}"])
        {
            Assert.Contains(series, body, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("checkout_completed_total", body, StringComparison.Ordinal);
        Assert.DoesNotContain("# EOF", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACheckout_CountsItsStartCompletionTimeAndGatewayCalls()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var (_, token) = await shopper.StartSessionAsync(cartId);
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId), token)).Status);
        var declined = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        Assert.Equal(HttpStatusCode.PaymentRequired, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(declined, "pm_stripe_1a2b_declined"))).Status);

        var (_, body) = await ScrapeAsync();

        Assert.Contains("checkout_started{flow=\"guest_v2\",region=\"local\"} 2", body, StringComparison.Ordinal);
        Assert.Contains("checkout_completed{flow=\"guest_v2\",region=\"local\"} 1", body, StringComparison.Ordinal);
        Assert.Contains("checkout_completion_duration_seconds_count{flow=\"guest_v2\"} 1", body, StringComparison.Ordinal);
        Assert.Contains("checkout_errors{flow=\"guest_v2\",error_code=\"PAYMENT_DECLINED\"} 1", body, StringComparison.Ordinal);
        Assert.Contains("payment_intent_errors{checkout_type=\"guest\",error_code=\"card_declined\"} 1", body, StringComparison.Ordinal);
        Assert.Contains("payment_gateway_duration_seconds_count{flow=\"guest_v2\",operation=\"confirm_intent\"} 2", body, StringComparison.Ordinal);
        Assert.Contains("checkout_in_flight 0", body, StringComparison.Ordinal);
    }
}
