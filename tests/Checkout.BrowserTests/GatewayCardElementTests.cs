using System.Net.Http.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using PaymentGateway.Contracts;
using PaymentGateway.Simulator;

namespace CheckoutService.BrowserTests;

/// <summary>
/// The simulator's Stripe.js subset in chromium, mounted by a small shop page on another origin
/// under the CSP the checkout page will use (script-src and frame-src name the gateway, connect-src
/// only the shop): the card is typed into the gateway's iframe and only a pm_ id comes back.
/// </summary>
public sealed class GatewayCardElementTests(BrowserFixture browser) : IAsyncLifetime
{
    private EmbeddedGatewaySimulator _gateway = null!;
    private WebApplication _shop = null!;
    private IPage _page = null!;
    private readonly List<IRequest> _requests = [];

    public async ValueTask InitializeAsync()
    {
        _gateway = await EmbeddedGatewaySimulator.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        _shop = await StartShopAsync(_gateway.BaseAddress.GetLeftPart(UriPartial.Authority));
        var context = await browser.Browser.NewContextAsync(new() { BaseURL = _shop.Urls.First() });
        context.SetDefaultTimeout(60_000);
        _page = await context.NewPageAsync();
        _page.Request += (_, request) => _requests.Add(request);
    }

    public async ValueTask DisposeAsync()
    {
        await _page.Context.CloseAsync();
        await _shop.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    private IFrameLocator Card => _page.FrameLocator("iframe[title='Secure card payment input frame']");

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task CardElement_KeyboardOnly4242_GivesAPmIdWithBrandAndLast4()
    {
        await _page.GotoAsync("/");
        await Assertions.Expect(Card.GetByLabel("Card number")).ToBeVisibleAsync();

        await _page.Keyboard.PressAsync("Tab"); // from the page's start into the frame's first field
        await _page.Keyboard.TypeAsync("4242424242424242");
        await _page.Keyboard.PressAsync("Tab");
        await _page.Keyboard.TypeAsync("1230");
        await _page.Keyboard.PressAsync("Tab");
        await _page.Keyboard.TypeAsync("123");
        await _page.Keyboard.PressAsync("Tab");
        await _page.Keyboard.TypeAsync("10001");
        await _page.Keyboard.PressAsync("Tab"); // out of the frame, to the shop's Pay button
        await _page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(_page.Locator("#result")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^pm_[A-Za-z0-9]+ visa 4242$"));
        await Assertions.Expect(Card.GetByLabel("Card number")).ToHaveValueAsync("4242 4242 4242 4242");
        await Assertions.Expect(Card.GetByLabel("Expiry (MM / YY)")).ToHaveValueAsync("12 / 30");
        await Assertions.Expect(_page.Locator("#change")).ToHaveTextAsync("visa complete");
        Assert.Contains(_requests, r => r.Url.StartsWith(_gateway.BaseAddress + "v1/payment_methods", StringComparison.Ordinal));
        Assert.DoesNotContain(_requests, r => r.Url.StartsWith(_shop.Urls.First(), StringComparison.Ordinal)
            && (r.Url.Contains("4242", StringComparison.Ordinal) || r.PostData?.Contains("4242", StringComparison.Ordinal) == true));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task CardFrame_EmptyAndWithAnError_HasNoWcagViolations()
    {
        // Opened on its own, so axe runs in the frame's document itself.
        await _page.GotoAsync(new Uri(_gateway.BaseAddress, "/v3/elements/card?key=pk_test_simulator&origin=" + Uri.EscapeDataString(_shop.Urls.First())).ToString());
        await AssertAccessibleAsync("empty");

        await _page.GetByLabel("Card number").PressSequentiallyAsync("4242");
        await _page.Keyboard.PressAsync("Tab");

        await Assertions.Expect(_page.Locator("#number-error")).ToHaveTextAsync("Your card number is incomplete.");
        await AssertAccessibleAsync("incomplete number");
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task HostedCardAndChallengePages_WithoutJavaScript_HaveNoWcagViolations()
    {
        var clientSecret = await ChallengedIntentAsync();
        var intentId = clientSecret.Split("_secret_")[0];

        await _page.GotoAsync(new Uri(_gateway.BaseAddress, "/v3/hosted/card?return_url=" + Uri.EscapeDataString(_shop.Urls.First() + "/done")).ToString());
        await AssertAccessibleAsync("hosted card");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Use this card" }).ClickAsync();
        await Assertions.Expect(_page.Locator("#number-error")).ToHaveTextAsync("Your card number is incomplete.");
        await AssertAccessibleAsync("hosted card with an error");
        await _page.GotoAsync(new Uri(_gateway.BaseAddress, $"/v3/authenticate/{intentId}?client_secret={Uri.EscapeDataString(clientSecret)}").ToString());
        await AssertAccessibleAsync("challenge");
    }

    private async Task AssertAccessibleAsync(string state)
    {
        var result = await _page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(result.Violations.Length == 0,
            $"{state}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}")));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task CardElement_NumberFailingLuhn_IsRefusedInTheFieldWithoutAskingTheGateway()
    {
        await _page.GotoAsync("/");
        await Card.GetByLabel("Card number").PressSequentiallyAsync("4242424242424241");
        await Card.GetByLabel("Expiry (MM / YY)").PressSequentiallyAsync("1230");

        await Assertions.Expect(Card.GetByLabel("Card number")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Card.Locator("#number-error")).ToHaveTextAsync("Your card number is invalid.");
        await _page.ClickAsync("#pay");
        await Assertions.Expect(_page.Locator("#result")).ToHaveTextAsync("error validation_error invalid_number");
        Assert.DoesNotContain(_requests, r => r.Url.Contains("/v1/payment_methods", StringComparison.Ordinal));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task HandleNextAction_ChallengeCompletedInTheModal_ResolvesTheSucceededIntentAndChargesOnce()
    {
        var clientSecret = await ChallengedIntentAsync();
        await _page.GotoAsync("/?client_secret=" + Uri.EscapeDataString(clientSecret));

        await _page.ClickAsync("#authenticate");
        var challenge = _page.FrameLocator("iframe[title='3-D Secure authentication']");
        await challenge.GetByRole(AriaRole.Button, new() { Name = "Complete authentication" }).ClickAsync();

        await Assertions.Expect(_page.Locator("#result")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(_page.Locator("dialog")).ToHaveCountAsync(0);
        Assert.Equal(1, _gateway.Simulator.Ledger("cart_browser").Charges);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task HandleNextAction_ChallengeFailed_ResolvesTheAuthenticationError()
    {
        var clientSecret = await ChallengedIntentAsync();
        await _page.GotoAsync("/?client_secret=" + Uri.EscapeDataString(clientSecret));

        await _page.ClickAsync("#authenticate");
        await _page.FrameLocator("iframe[title='3-D Secure authentication']").GetByRole(AriaRole.Button, new() { Name = "Fail authentication" }).ClickAsync();

        await Assertions.Expect(_page.Locator("#result")).ToHaveTextAsync("error card_error payment_intent_authentication_failure");
        Assert.Equal(0, _gateway.Simulator.Ledger("cart_browser").Charges);
    }

    /// <summary>What the service will do: create and confirm an intent whose card needs 3-D Secure, returning to the shop.</summary>
    private async Task<string> ChallengedIntentAsync()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseAddress };
        var ct = TestContext.Current.CancellationToken;
        var create = await http.PostAsJsonAsync("/api/v1/intents/create",
            new CreateIntentRequest(19.99m, "EUR", "pm_card_authenticationRequired", new IntentMetadata("cart_browser", "guest", null)), GatewayJson.Default.CreateIntentRequest, ct);
        var intent = await create.Content.ReadFromJsonAsync(GatewayJson.Default.CreateIntentResponse, ct);
        var confirm = await http.PostAsJsonAsync("/api/v1/intents/confirm",
            new ConfirmIntentRequest(intent!.IntentId, _shop.Urls.First() + "/done"), GatewayJson.Default.ConfirmIntentRequest, ct);
        var confirmed = await confirm.Content.ReadFromJsonAsync(GatewayJson.Default.ConfirmIntentResponse, ct);
        Assert.Equal(IntentStatus.RequiresAction, confirmed!.Status);
        return confirmed.ClientSecret!;
    }

    /// <summary>A shop page on its own loopback origin that integrates the card element as Stripe's docs show.</summary>
    private static async Task<WebApplication> StartShopAsync(string gateway)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy =
                $"default-src 'self'; script-src 'self' {gateway}; frame-src {gateway}; connect-src 'self'; style-src 'self'";
            return next(context);
        });
        app.MapGet("/", () => Results.Content($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body><main>
            <h1>Pay</h1><div id="card-element"></div>
            <button id="pay" type="button">Pay</button> <button id="authenticate" type="button">Authenticate</button>
            <p id="change"></p><p id="result"></p>
            </main><script src="{gateway}/v3/stripe.js"></script><script src="/app.js"></script></body></html>
            """, "text/html"));
        app.MapGet("/app.js", () => Results.Text("""
            var stripe = Stripe('pk_test_simulator');
            var card = stripe.elements().create('card');
            card.mount('#card-element');
            var show = function (text) { document.getElementById('result').textContent = text; };
            var shown = function (r) { return r.error ? 'error ' + r.error.type + ' ' + r.error.code : null; };
            card.on('change', function (e) { document.getElementById('change').textContent = e.brand + (e.complete ? ' complete' : ''); });
            document.getElementById('pay').addEventListener('click', function () {
              stripe.createPaymentMethod({ type: 'card', card: card }).then(function (r) {
                show(shown(r) || r.paymentMethod.id + ' ' + r.paymentMethod.card.brand + ' ' + r.paymentMethod.card.last4);
              });
            });
            document.getElementById('authenticate').addEventListener('click', function () {
              var secret = new URLSearchParams(location.search).get('client_secret');
              stripe.handleNextAction({ clientSecret: secret }).then(function (r) { show(shown(r) || r.paymentIntent.status); });
            });
            """, "text/javascript"));
        await app.StartAsync();
        return app;
    }
}
