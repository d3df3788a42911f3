using System.Collections.Concurrent;
using CheckoutService.Carts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheckoutService.BrowserTests;

/// <summary>
/// The payment step as a shopper meets it: the card typed into the payment provider's frame, the
/// provider's messages and the checkout's declines at the card field, 3-D Secure in the provider's
/// modal, and the card number never reaching the service.
/// </summary>
public sealed partial class CheckoutPageTests
{
    private const string Declined = "4000000000000002";
    private const string InsufficientFunds = "4000000000009995";
    private const string Authenticates = "4000002760003184";

    private IFrameLocator Challenge => _page.FrameLocator("iframe[title='3-D Secure authentication']");

    /// <summary>The Idempotency-Key of each checkout the page sends.</summary>
    private static List<string> CheckoutKeys(IPage page)
    {
        var keys = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/api/v2/checkout/guest", StringComparison.Ordinal) && request.Headers.TryGetValue("idempotency-key", out var key))
            {
                keys.Add(key);
            }
        };
        return keys;
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task DeclinedCard_SaysSoAtTheCard_AndAnotherCardOnTheSameCartPays_ChargingOnce()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        var keys = CheckoutKeys(_page);
        await FillAsync(_page, Declined);

        await _page.ClickAsync("#pay");

        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync("Your card was declined. Please use a different payment method.");
        await Eventually(() => CardNumberFocusedAsync(_page));
        Assert.True(await _page.IsHiddenAsync("#card-saved"));
        await AssertAccessibleAsync(_page, "declined");

        await FillCardAsync(_page, Visa);
        await _page.ClickAsync("#pay");

        await _page.WaitForURLAsync(ConfirmationUrl());
        var ledger = browser.Host.Gateway.Ledger(cartId);
        Assert.Equal(1, ledger.Charges);
        Assert.Equal(2, keys.Count);
        Assert.NotEqual(keys[0], keys[1]); // the second card is a new payment
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task InsufficientFunds_TheMessageIsAtTheCardField_WhichHasTheFocus()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page, InsufficientFunds);

        await _page.ClickAsync("#pay");

        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync("Your card has insufficient funds. Please use a different card.");
        await Eventually(() => CardNumberFocusedAsync(_page));
        Assert.Contains("Your card has insufficient funds.", await _page.TextContentAsync("#error-summary"), StringComparison.Ordinal);
        Assert.Equal("#card-field", await _page.GetAttributeAsync("#error-summary a", "href"));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task CardFieldError_ShowsInlineFromTheFieldsOwnChangeEvents()
    {
        await ToCheckoutAsync(_page);
        await CardFrame(_page).GetByLabel("Card number").FillAsync("4242424242424241"); // fails the Luhn check
        await CardFrame(_page).GetByLabel("Card number").BlurAsync(); // a Visa may have 19 digits: 16 are judged once the shopper leaves the field

        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync("Your card number is invalid.");
        await CardFrame(_page).GetByLabel("Card number").FillAsync(Visa);
        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync("");
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ThreeDSecure_ChallengeCompletedInTheModal_PlacesTheOrder_WithTheSameKey()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        var keys = CheckoutKeys(_page);
        await FillAsync(_page, Authenticates);

        await _page.ClickAsync("#pay");

        var complete = Challenge.GetByRole(AriaRole.Button, new() { Name = "Complete authentication" });
        await Assertions.Expect(complete).ToBeVisibleAsync();
        Assert.True(await _page.IsVisibleAsync("#processing"), "the spinner goes while the bank's check is open");
        await AssertAccessibleAsync(_page, "challenge");
        await complete.ClickAsync();

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal(1, browser.Host.Gateway.Ledger(cartId).Charges);
        Assert.Equal(2, keys.Count);
        Assert.Equal(keys[0], keys[1]); // the same checkout, sent again after the check
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ThreeDSecure_ChallengeFailed_SaysSoAtTheCard_AndAnotherCardPays()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        var keys = CheckoutKeys(_page);
        await FillAsync(_page, Authenticates);

        await _page.ClickAsync("#pay");
        await Challenge.GetByRole(AriaRole.Button, new() { Name = "Fail authentication" }).ClickAsync();

        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync(
            "Your bank could not confirm this payment, and nothing was charged. Please try again or use a different card.");
        await Eventually(() => CardNumberFocusedAsync(_page));
        await FillCardAsync(_page, Visa);
        await _page.ClickAsync("#pay");

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal(1, browser.Host.Gateway.Ledger(cartId).Charges);
        Assert.Equal(3, keys.Count);
        Assert.Equal(keys[0], keys[1]);
        Assert.NotEqual(keys[1], keys[2]);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ThreeDSecure_CompletedAndTheTabClosedBeforeItResubmits_TheOrderComesByWebhook_AndTheRetryFindsItPaid()
    {
        await using var host = await new ServiceHost(settings: new Dictionary<string, string> { ["STRIPE_WEBHOOK_SECRET"] = "whsec_browser_tests" }).WarmAsync();
        var page = await browser.NewPageAsync(host: host);
        var checkout = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/v2/checkout/guest", StringComparison.Ordinal));
        var challenged = page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.EndsWith("/api/v2/checkout/guest", StringComparison.Ordinal));
        await ToCheckoutAsync(page);
        var cartId = CartIdOf(page);
        await FillAsync(page, Authenticates);

        await page.ClickAsync("#pay");
        var request = await checkout;
        var answer = await challenged;
        Assert.Equal(402, answer.Status);
        var body = await answer.JsonAsync();
        Assert.Equal("AUTHENTICATION_REQUIRED", body?.GetProperty("error").GetString());
        var challengeUrl = body!.Value.GetProperty("next_action").GetProperty("url").GetString()!;
        var headers = await request.AllHeadersAsync(); // read from the browser, so while the tab is open

        // The shopper answers the bank elsewhere, and the checkout tab is gone before it can send the checkout again.
        var elsewhere = await page.Context.NewPageAsync();
        await elsewhere.GotoAsync(challengeUrl);
        await elsewhere.GetByRole(AriaRole.Button, new() { Name = "Complete authentication" }).ClickAsync();
        await page.CloseAsync();

        var orders = host.Services.GetRequiredService<ICartOrders>();
        await Eventually(async () => await orders.OrderIdOfAsync(cartId, CancellationToken.None) is not null);
        Assert.Equal(1, host.Gateway.Ledger(cartId).Charges);

        var retry = await elsewhere.Context.APIRequest.PostAsync(request.Url, new()
        {
            DataString = request.PostData,
            Headers = headers.Where(h => h.Key is "content-type" or "authorization" or "idempotency-key").ToDictionary(h => h.Key, h => h.Value),
        });
        Assert.Equal(201, retry.Status);
        var placed = (await retry.JsonAsync())!.Value;
        var orderId = placed.GetProperty("order_id").GetString();
        Assert.Equal(await orders.OrderIdOfAsync(cartId, CancellationToken.None), orderId);
        var lookUp = await elsewhere.Context.APIRequest.GetAsync(
            $"/api/v2/checkout/guest/orders/{orderId}?confirmation_token={Uri.EscapeDataString(placed.GetProperty("confirmation_token").GetString()!)}");
        Assert.Equal(200, lookUp.Status);
        Assert.Equal("paid", (await lookUp.JsonAsync())!.Value.GetProperty("status").GetString());
        Assert.Equal(1, host.Gateway.Ledger(cartId).Charges);
        await elsewhere.Context.CloseAsync();
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task Pci_PayingWithACard_NoRequestToTheServiceAndNoLogLine_HoldsTheCardNumber()
    {
        await using var host = await new ServiceHost(captureLogs: true).WarmAsync();
        var page = await browser.NewPageAsync(host: host);
        var service = host.BaseAddress.GetLeftPart(UriPartial.Authority);
        var sent = new ConcurrentQueue<Task<string>>();
        var toGateway = new ConcurrentQueue<string>();
        // Every request of the page and its frames: what went to the service (URL, headers, body), and what went to the provider.
        page.Context.Request += (_, request) =>
        {
            if (request.Url.StartsWith(service, StringComparison.Ordinal))
            {
                sent.Enqueue(DescribeAsync(request));
            }
            else
            {
                toGateway.Enqueue(request.Url + "\n" + request.PostData);
            }
        };
        string[] requests;
        IReadOnlyList<BrowserContextCookiesResult> cookies;
        try
        {
            await ToCheckoutAsync(page);
            await FillAsync(page, "4242 4242 4242 4242");
            await page.ClickAsync("#section-shipping button.continue");
            await page.ClickAsync("#section-payment button.continue");
            await Eventually(async () => await page.EvaluateAsync<bool>("() => document.getElementById('section-review').open"));
            await page.ClickAsync("#pay");
            await page.WaitForURLAsync(ConfirmationUrl());
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            requests = await Task.WhenAll(sent); // each request's headers are read from the browser, so before it closes
            cookies = await page.Context.CookiesAsync();
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        var holding = requests.Count(HoldsTheCard);
        var lines = host.LogLines.ToArray();
        var logged = lines.Count(HoldsTheCard);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"PCI: {requests.Length} requests to the service, {holding} holding the card; {lines.Length} log lines at Trace, {logged} holding the card");
        Assert.Contains(toGateway, r => r.Contains("/v1/payment_methods", StringComparison.Ordinal) && r.Contains("card%5Bnumber%5D=4242424242424242", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Contains("POST /api/v2/checkout/guest", StringComparison.Ordinal)); // the capture saw the payment itself
        Assert.NotEmpty(lines);
        Assert.Equal(0, holding);
        Assert.Equal(0, logged);
        Assert.DoesNotContain(cookies, c => HoldsTheCard($"{c.Name}={c.Value}"));
    }

    private static async Task<string> DescribeAsync(IRequest request)
    {
        IEnumerable<KeyValuePair<string, string>> headers;
        try
        {
            headers = await request.AllHeadersAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            // A request the browser dropped (one in flight as the page moved on, on a slow machine) never
            // gets its raw headers, and waiting for them hung this test: the headers the page set are what
            // it sent, and the cookies the browser adds are checked on their own.
            headers = request.Headers;
        }
        return $"{request.Method} {new Uri(request.Url).PathAndQuery}\n{string.Join("\n", headers.Select(h => $"{h.Key}: {h.Value}"))}\n\n{request.PostData}";
    }

    /// <summary>The number, as typed or as digits, or its last 8 digits with the expiry: what must never reach the service.</summary>
    private static bool HoldsTheCard(string text)
    {
        var decoded = Uri.UnescapeDataString(text.Replace('+', ' '));
        return decoded.Contains("4242424242424242", StringComparison.Ordinal)
            || decoded.Contains("4242 4242 4242 4242", StringComparison.Ordinal)
            || (decoded.Contains("42424242", StringComparison.Ordinal)
                && (decoded.Contains("12 / 30", StringComparison.Ordinal) || decoded.Contains("12/30", StringComparison.Ordinal) || decoded.Contains("1230", StringComparison.Ordinal)));
    }
}
