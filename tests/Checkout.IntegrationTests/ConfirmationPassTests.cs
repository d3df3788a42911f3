using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// The confirmation page opens an order with its token from an HttpOnly, SameSite=Strict cookie the
/// paying POST set, never from the URL.
/// </summary>
public sealed class ConfirmationPassTests(CheckoutApp app) : IClassFixture<CheckoutApp>
{
    [Fact]
    public async Task TheTokenHandedOverByPost_OpensTheConfirmation_AndTheUrlNeverCarriesIt()
    {
        using var shopper = app.Shopper();
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1))));
        var (orderId, token) = ((string)placed.Body!["order_id"]!, (string)placed.Body["confirmation_token"]!);
        using var browser = Browser();

        using var handOver = await browser.PostAsync("/checkout/guest/confirmation/open",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["order_id"] = orderId, ["confirmation_token"] = token }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.SeeOther, handOver.StatusCode);
        Assert.Equal($"/checkout/guest/confirmation?order_id={orderId}", handOver.Headers.Location!.ToString());
        var pass = Assert.Single(handOver.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"cnf_{orderId}={token};", pass, StringComparison.Ordinal);
        Assert.Contains("httponly", pass, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", pass, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/checkout/guest/confirmation", pass, StringComparison.OrdinalIgnoreCase);

        Assert.Contains("Thank you, your order is placed", await PageAsync(browser, $"/checkout/guest/confirmation?order_id={orderId}", pass.Split(';')[0]), StringComparison.Ordinal);
        // The old link form, token in the query, opens nothing.
        Assert.Contains("Order not found", await PageAsync(browser, $"/checkout/guest/confirmation?order_id={orderId}&confirmation_token={token}", null), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongToken_OrAnotherSitesForm_GetsNoPass()
    {
        using var shopper = app.Shopper();
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1))));
        var (orderId, token) = ((string)placed.Body!["order_id"]!, (string)placed.Body["confirmation_token"]!);
        using var browser = Browser();

        foreach (var (given, origin, site) in new[] { ("cnf_wrong", (string?)null, (string?)null), (token, "https://evil.example", null), (token, "null", "cross-site") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/checkout/guest/confirmation/open")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["order_id"] = orderId, ["confirmation_token"] = given }),
            };
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }
            if (site is not null)
            {
                request.Headers.Add("Sec-Fetch-Site", site);
            }
            using var response = await browser.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
            Assert.False(response.Headers.Contains("Set-Cookie"), $"{given} from {origin}");
        }
    }

    private HttpClient Browser()
    {
        using var started = app.CreateClient();
#pragma warning disable CA5399 // a test client of a local host; no revocation to check
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = started.BaseAddress };
#pragma warning restore CA5399
    }

    private static async Task<string> PageAsync(HttpClient browser, string path, string? cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        using var response = await browser.SendAsync(request, TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }
}
