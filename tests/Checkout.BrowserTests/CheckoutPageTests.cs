using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace CheckoutService.BrowserTests;

/// <summary>The storefront and the GuestCheckoutPanel page in headless chromium, as a shopper uses them.</summary>
public sealed partial class CheckoutPageTests(BrowserFixture browser) : IAsyncLifetime
{
    private IPage _page = null!;

    public async ValueTask InitializeAsync() => _page = await browser.NewPageAsync();

    public async ValueTask DisposeAsync()
    {
        var failed = TestContext.Current.TestState?.Result == TestResult.Failed;
        await _page.Context.Tracing.StopAsync(failed
            ? new() { Path = Path.Combine(BrowserFixture.OutputDirectory, $"trace-{TestContext.Current.Test?.TestDisplayName.GetHashCode():x}.zip") }
            : new());
        await _page.Context.CloseAsync();
    }

    /// <summary>From the store to the checkout page with one mug in the cart, as a person does it.</summary>
    private static async Task ToCheckoutAsync(IPage page, int mugs = 1)
    {
        await page.GotoAsync("/");
        await page.FillAsync("#qty-SKU-MUG-12OZ", mugs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("text=Go to checkout");
        await page.WaitForURLAsync(CheckoutUrl());
    }

    /// <summary>The shopper's details, and the card typed into the payment provider's frame (none for <c>null</c>).</summary>
    private static async Task FillAsync(IPage page, string? card = Visa)
    {
        await FillDetailsAsync(page);
        if (card is not null)
        {
            await FillCardAsync(page, card);
        }
    }

    private static async Task FillDetailsAsync(IPage page)
    {
        await page.FillAsync("#email", "user4827@example.com");
        await page.FillAsync("#line1", "742 Evergreen Terrace");
        await page.FillAsync("#city", "Springfield");
        await page.FillAsync("#state", "IL");
        await page.FillAsync("#zip", "62704");
        await page.FillAsync("#country", "US");
    }

    private const string Visa = "4242424242424242";

    /// <summary>The card fields in the provider's iframe, as Stripe.js mounts them in the page's card container.</summary>
    private static IFrameLocator CardFrame(IPage page) => page.FrameLocator("#card-element iframe");

    /// <summary>Types a card into the provider's frame: number, expiry, security code, postal code.</summary>
    private static async Task FillCardAsync(IPage page, string number, string expiry = "1230", string cvc = "123", string postalCode = "62704")
    {
        var frame = CardFrame(page);
        await frame.GetByLabel("Card number").FillAsync(number);
        await frame.GetByLabel("Expiry (MM / YY)").FillAsync(expiry);
        await frame.GetByLabel("Security code").FillAsync(cvc);
        await frame.GetByLabel("Postal code").FillAsync(postalCode);
    }

    /// <summary>Whether the keyboard focus is in the card frame's number field.</summary>
    private static async Task<bool> CardNumberFocusedAsync(IPage page) =>
        await page.EvaluateAsync<bool>("() => document.activeElement?.tagName === 'IFRAME' && !!document.activeElement.closest('#card-element')")
        && await CardFrame(page).Locator("#number").EvaluateAsync<bool>("e => document.activeElement === e");

    /// <summary>Presses Tab until the element is focused: how a keyboard user reaches it.</summary>
    private static async Task TabToAsync(IPage page, string id)
    {
        for (var presses = 0; presses < 60; presses++)
        {
            if (await page.EvaluateAsync<string>("() => document.activeElement?.id ?? ''") == id)
            {
                return;
            }
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Fail($"#{id} cannot be reached with Tab");
    }

    private static Task<string> ActiveIdAsync(IPage page) => page.EvaluateAsync<string>("() => document.activeElement?.id ?? ''");

    /// <summary>Waits for what the page does after an answer arrives, without a fixed sleep.</summary>
    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, TestContext.Current.CancellationToken);
        }
        Assert.Fail("the page never got there");
    }

    private static async Task AssertAccessibleAsync(IPage page, string state)
    {
        // axe.run is a promise that Playwright awaits without a timeout of its own; one that never settles fails here.
        var result = await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(result.Violations.Length == 0,
            $"{state}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}")));
    }

    /// <summary>
    /// axe on the page as it renders without JavaScript. axe cannot run where scripts are off (its
    /// promise waits on timers that never fire, so the call hangs), so the same URL is opened in a
    /// context of its own where only the page's scripts are refused: the page has no noscript
    /// content, so what renders is the same.
    /// </summary>
    private async Task AssertAccessibleWithoutScriptsAsync(string url, string state)
    {
        var page = await browser.NewPageAsync();
        try
        {
            await page.Context.RouteAsync("**/*", route => route.Request.ResourceType == "script" ? route.AbortAsync() : route.ContinueAsync());
            await page.GotoAsync(url);
            Assert.True(await page.IsVisibleAsync("#hosted-card"), "the page renders as without JavaScript");
            await AssertAccessibleAsync(page, state);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private static string CartIdOf(IPage page) => new Uri(page.Url).Query.Split("cart_id=")[1].Split('&')[0];

    /// <summary>
    /// Without JavaScript: the shopper's details typed on the page, then "Pay by card on the secure
    /// payment page", the card typed on the provider's hosted page, and back on the checkout page with it.
    /// </summary>
    private static async Task ChooseCardOnTheHostedPageAsync(IPage page, string number = Visa)
    {
        await FillDetailsAsync(page);
        await page.ClickAsync("#hosted-card");
        await page.WaitForURLAsync(HostedCardUrl());
        await page.GetByLabel("Card number").FillAsync(number);
        await page.GetByLabel("Expiry (MM / YY)").FillAsync("12 / 30");
        await page.GetByLabel("Security code").FillAsync("123");
        await page.GetByLabel("Postal code").FillAsync("62704");
        await page.ClickAsync("text=Use this card");
        await page.WaitForURLAsync(CheckoutWithCardUrl());
    }

    [GeneratedRegex(@"/v3/hosted/card\?return_url=")]
    private static partial Regex HostedCardUrl();

    [GeneratedRegex(@"/checkout/guest\?cart_id=cart_\w+&payment_method=pm_\w+&brand=\w+&last4=\d{4}$")]
    private static partial Regex CheckoutWithCardUrl();

    private static async Task<ServiceHost> OwnHostAsync(FakeTimeProvider? clock = null) => await new ServiceHost(clock).WarmAsync();

    private static async Task ShotAsync(IPage page, string name)
    {
        // The provider's frame is painted only once it has been on screen: below the fold, a full-page shot shows it blank.
        var cardFrame = page.Locator("#card-element iframe");
        if (await cardFrame.CountAsync() > 0)
        {
            await cardFrame.ScrollIntoViewIfNeededAsync();
            await Assertions.Expect(CardFrame(page).GetByLabel("Card number")).ToBeVisibleAsync();
        }
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.OutputDirectory, name + ".png"), FullPage = true });
    }

    [GeneratedRegex(@"/checkout/guest\?cart_id=cart_\w+$")]
    private static partial Regex CheckoutUrl();

    [GeneratedRegex(@"^http://[^/]+/$")]
    private static partial Regex StoreUrl();

    [GeneratedRegex(@"/checkout/guest/confirmation\?")]
    private static partial Regex ConfirmationUrl();

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task HappyPath_SectionBySection_FromTheStoreToTheConfirmation()
    {
        await ToCheckoutAsync(_page, mugs: 2);
        await ShotAsync(_page, "checkout-desktop");
        await FillAsync(_page);

        await _page.ClickAsync("#section-shipping button.continue");
        await _page.WaitForSelectorAsync("#section-shipping .saved", new() { State = WaitForSelectorState.Attached });
        await Eventually(async () => await _page.EvaluateAsync<bool>("() => !document.getElementById('section-shipping').open"));
        Assert.True(await _page.EvaluateAsync<bool>("() => document.getElementById('section-payment').open"));
        Assert.Equal("method-card", await ActiveIdAsync(_page));
        await _page.ClickAsync("#section-payment button.continue");
        await Eventually(async () => await _page.EvaluateAsync<bool>("() => document.getElementById('section-review').open"));
        Assert.Equal("Visa •••• 4242", await _page.TextContentAsync("#card-summary"));
        Assert.True(await _page.IsHiddenAsync("#card-entry"));
        await _page.ClickAsync("#pay");

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal("Thank you, your order is placed", await _page.TextContentAsync("h1"));
        Assert.Matches("^ord_[a-z0-9]{12}$", await _page.TextContentAsync("#order-id"));
        Assert.Contains("$29.98", await _page.TextContentAsync("dl.order"), StringComparison.Ordinal);
        await AssertAccessibleAsync(_page, "confirmation");
        await ShotAsync(_page, "confirmation-desktop");
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task KeyboardOnly_FromTheStoreToTheConfirmation()
    {
        await _page.GotoAsync("/");
        await TabToAsync(_page, "qty-SKU-MUG-12OZ");
        await _page.Keyboard.TypeAsync("2");
        await _page.Keyboard.PressAsync("Enter");
        await _page.WaitForURLAsync(CheckoutUrl());
        await AssertAccessibleAsync(_page, "empty");

        foreach (var (id, text) in new (string, string)[] { ("email", "user4827@example.com"), ("line1", "742 Evergreen Terrace"), ("city", "Springfield"),
                     ("state", "IL"), ("zip", "62704"), ("country", "US") })
        {
            await TabToAsync(_page, id);
            await _page.Keyboard.PressAsync("Control+A");
            await _page.Keyboard.TypeAsync(text);
        }
        // Into the provider's frame with Tab, through its four labelled fields, and out again to the page.
        await TabToAsync(_page, "method-card");
        await _page.Keyboard.PressAsync("Tab");
        Assert.True(await CardNumberFocusedAsync(_page), "Tab from the payment method does not reach the card number");
        foreach (var text in (string[])["4242 4242 4242 4242", "12 / 30", "123", "62704"])
        {
            await _page.Keyboard.TypeAsync(text);
            await _page.Keyboard.PressAsync("Tab");
        }
        Assert.Equal("4242 4242 4242 4242", await CardFrame(_page).GetByLabel("Card number").InputValueAsync());
        await TabToAsync(_page, "pay");
        await _page.Keyboard.PressAsync("Enter");

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal("confirmed", await ActiveIdAsync(_page));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task GuestToRegistered_TheConfirmationOffersAnAccount_ThatHoldsTheOrder()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page);
        await _page.ClickAsync("#pay");
        await _page.WaitForURLAsync(ConfirmationUrl());
        var orderId = await _page.TextContentAsync("#order-id");

        await _page.FillAsync("#password", "too short");
        await _page.ClickAsync("#create-account");
        await _page.WaitForSelectorAsync("#password-error");
        Assert.Equal("Password is too short", await _page.TextContentAsync("#password-error"));
        Assert.Equal("password", await ActiveIdAsync(_page));

        await _page.FillAsync("#password", "correct horse battery staple");
        await _page.ClickAsync("#create-account");
        await _page.WaitForSelectorAsync("#account-created");
        Assert.Contains("u***@example.com", await _page.TextContentAsync("#account-created"), StringComparison.Ordinal);
        await AssertAccessibleAsync(_page, "account created");

        using var api = browser.Host.CreateClient();
        var cancel = TestContext.Current.CancellationToken;
        var signIn = await api.PostAsJsonAsync("/api/v2/accounts/sessions", new { email = "user4827@example.com", password = "correct horse battery staple" }, cancel);
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("access_token").GetString();
        using var mine = new HttpRequestMessage(HttpMethod.Get, "/api/v2/accounts/me/orders") { Headers = { Authorization = new("Bearer", token) } };
        var orders = await (await api.SendAsync(mine, cancel)).Content.ReadFromJsonAsync<JsonElement>(cancel);
        Assert.Contains(orders.EnumerateArray(), o => o.GetProperty("order_id").GetString() == orderId);
        await Eventually(async () => (await browser.Host.AnalyticsEventsAsync(orderId!)).Any(e => e.Contains("\"account_created\"", StringComparison.Ordinal)));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task AccountCreated_GoingBackToTheConfirmation_ShowsTheAccount_WithoutResubmittingTheForm()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page);
        // An email of its own: an account is one per email, and other tests create theirs on the same host.
        await _page.FillAsync("#email", $"back{Guid.NewGuid():N}@example.com");
        await _page.ClickAsync("#pay");
        await _page.WaitForURLAsync(ConfirmationUrl());
        var posts = 0;
        _page.Request += (_, request) => posts += request.Method == "POST" && request.Url.Contains("/checkout/guest/confirmation", StringComparison.Ordinal) ? 1 : 0;
        await _page.FillAsync("#password", "correct horse battery staple");
        await _page.ClickAsync("#create-account");
        await _page.WaitForSelectorAsync("#account-created");

        await _page.ClickAsync("text=Continue shopping");
        await _page.WaitForURLAsync(StoreUrl());
        var back = await _page.GoBackAsync();

        Assert.NotNull(back);
        Assert.Equal(200, back.Status);
        Assert.Matches(ConfirmationUrl(), _page.Url);
        Assert.Contains("b***@example.com", await _page.TextContentAsync("#account-created"), StringComparison.Ordinal);
        Assert.Equal(0, await _page.Locator("#create-account").CountAsync());
        Assert.Equal(1, posts);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task Favicon_EveryPageLinksOne_SoNothingLoadsWithA404()
    {
        var failures = new List<string>();
        _page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                failures.Add($"{response.Status} {response.Url}");
            }
        };
        _page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                failures.Add(message.Text);
            }
        };

        await ToCheckoutAsync(_page);
        await FillAsync(_page);
        await _page.ClickAsync("#pay");
        await _page.WaitForURLAsync(ConfirmationUrl());
        await _page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        Assert.Empty(failures);
        Assert.Equal(1, await _page.Locator("link[rel=icon]").CountAsync());
        var served = await _page.Context.APIRequest.GetAsync((await _page.GetAttributeAsync("link[rel=icon]", "href"))!);
        Assert.Equal(200, served.Status);
        Assert.StartsWith("image/", served.Headers["content-type"], StringComparison.Ordinal);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task SessionExpiry_StartsANewSession_KeepingTheCartAndWhatWasTyped()
    {
        await using var host = await OwnHostAsync(new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        var page = await browser.NewPageAsync(host: host);
        try
        {
            await ToCheckoutAsync(page, mugs: 3);
            await FillAsync(page);
            await page.ClickAsync("#section-shipping button.continue");
            await page.WaitForSelectorAsync("#section-shipping .saved:not([hidden])", new() { State = WaitForSelectorState.Attached });

            host.Clock!.Advance(TimeSpan.FromMinutes(16)); // past the 15-minute session TTL, well within the cart's
            await page.ClickAsync("#section-payment button.continue");

            await page.WaitForSelectorAsync("#notice:has-text('Your session timed out')");
            await Eventually(async () => await page.EvaluateAsync<bool>("() => document.getElementById('section-review').open"));
            Assert.Equal("$44.97", await page.TextContentAsync("#total"));
            Assert.Equal("742 Evergreen Terrace", await page.InputValueAsync("#line1"));
            await page.ClickAsync("#pay");
            await page.WaitForURLAsync(ConfirmationUrl());
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ValidationErrors_ShowTheApisMessagesInline_InALiveSummary_AndFocusTheFirst()
    {
        await ToCheckoutAsync(_page);
        await _page.FillAsync("#email", "not an email");

        await _page.ClickAsync("#pay");

        await _page.WaitForSelectorAsync("#email-error");
        Assert.Equal("Email address is not valid", await _page.TextContentAsync("#email-error"));
        Assert.Equal("Address line 1 is required", await _page.TextContentAsync("#line1-error"));
        Assert.Equal("polite", await _page.GetAttributeAsync("#error-summary", "aria-live"));
        Assert.Contains("City is required", await _page.TextContentAsync("#error-summary"), StringComparison.Ordinal);
        Assert.Equal("email", await ActiveIdAsync(_page));
        Assert.Equal("true", await _page.GetAttributeAsync("#email", "aria-invalid"));
        Assert.Equal("email-error", await _page.GetAttributeAsync("#email", "aria-describedby"));
        await AssertAccessibleAsync(_page, "errors shown");

        // The empty card is named with the rest, in the card fields' own words.
        Assert.Equal("Your card number is incomplete.", await _page.TextContentAsync("#card-error"));
        Assert.Contains("Your card number is incomplete.", await _page.TextContentAsync("#error-summary"), StringComparison.Ordinal);

        // Each section validates on its own: the payment section's save names only the card.
        await _page.FillAsync("#email", "user4827@example.com");
        await CardFrame(_page).GetByLabel("Card number").FillAsync("4242");
        await _page.ClickAsync("#section-payment button.continue");
        await Assertions.Expect(_page.Locator("#card-error")).ToHaveTextAsync("Your card number is incomplete.");
        await Eventually(() => CardNumberFocusedAsync(_page));
        Assert.Equal(0, await _page.Locator("#email-error").CountAsync());
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ConcurrentTabs_PayOnce_AndTheOtherTabLinksToTheOrder()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        var second = await _page.Context.NewPageAsync();
        await second.GotoAsync(_page.Url);
        await FillAsync(_page);
        await FillAsync(second);

        // Forced: when one tab's order lands first, the other tab disables its button at once, and a
        // click that waited for it to be enabled would wait forever. Either way one order, one charge.
        await Task.WhenAll(_page.ClickAsync("#pay", new() { Force = true }), second.ClickAsync("#pay", new() { Force = true }));

        var (paid, other) = await FirstAtConfirmationAsync(_page, second);
        var orderId = await paid.TextContentAsync("#order-id");
        await other.WaitForSelectorAsync("#notice a[data-order]");
        Assert.Contains("This cart has been ordered", await other.TextContentAsync("#notice"), StringComparison.Ordinal);
        Assert.Equal(orderId, await other.GetAttributeAsync("#notice a[data-order]", "data-order"));
        Assert.True(await other.IsDisabledAsync("#pay"));
        Assert.Equal(1, browser.Host.Gateway.Ledger(cartId).Charges);
    }

    /// <summary>Both tabs paid at once: one reaches the confirmation, the other stays.</summary>
    private static async Task<(IPage Paid, IPage Other)> FirstAtConfirmationAsync(IPage first, IPage second)
    {
        // Reached once the confirmation's document commits; the tests then wait for its elements. Waiting for
        // the load event as well timed out once under load with the page fully drawn and a beacon still pending.
        var reached = new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit };
        var winner = await Task.WhenAny(first.WaitForURLAsync(ConfirmationUrl(), reached), second.WaitForURLAsync(ConfirmationUrl(), reached));
        await winner;
        return ConfirmationUrl().IsMatch(first.Url) ? (first, second) : (second, first);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task PaymentRetry_AfterTheGatewayFailed_ReusesTheIdempotencyKey_AndChargesOnce()
    {
        await using var host = await OwnHostAsync();
        var page = await browser.NewPageAsync(host: host);
        try
        {
            var keys = new List<string>();
            page.Request += (_, request) =>
            {
                if (request.Method == "POST" && request.Url.EndsWith("/api/v2/checkout/guest", StringComparison.Ordinal))
                {
                    keys.Add(request.Headers["idempotency-key"]);
                }
            };
            await ToCheckoutAsync(page);
            await FillAsync(page);
            host.Gateway.InOutage = true;

            await page.ClickAsync("#pay");
            await page.WaitForSelectorAsync("#error-summary h2");
            Assert.Contains("We're having trouble processing your payment. Please try again in a moment.", await page.TextContentAsync("#error-summary"), StringComparison.Ordinal);
            Assert.Equal("742 Evergreen Terrace", await page.InputValueAsync("#line1"));

            host.Gateway.InOutage = false;
            await page.ClickAsync("#pay");
            await page.WaitForURLAsync(ConfirmationUrl());

            Assert.Equal(2, keys.Count);
            Assert.Equal(keys[0], keys[1]);
            Assert.StartsWith("idk_", keys[0], StringComparison.Ordinal);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }


    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task CartChangedAfterReview_ShowsTheNewTotal_SaysSo_AndPaysItOnlyWhenAskedAgain()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page);
        Assert.Equal("$14.99", await _page.TextContentAsync("#total"));
        // Someone else holding the cart id raises it while the shopper reviews 14.99.
        var raised = await _page.Context.APIRequest.PutAsync($"/api/v2/carts/{CartIdOf(_page)}/items/SKU-MUG-12OZ", new() { DataObject = new { quantity = 3 } });
        Assert.Equal(200, raised.Status);

        await _page.ClickAsync("#pay");

        await _page.WaitForSelectorAsync("#error-summary p");
        Assert.Equal("Your cart changed since you reviewed it. The total is now $44.97. Please review it and pay again.",
            await _page.TextContentAsync("#error-summary p"));
        Assert.Equal("$44.97", await _page.TextContentAsync("#total"));
        Assert.Equal("Pay $44.97", (await _page.TextContentAsync("#pay"))!.Trim());
        Assert.Equal("3", await _page.TextContentAsync("#section-review tbody tr td:nth-child(2)"));
        Assert.Equal("error-summary", await ActiveIdAsync(_page));
        Assert.DoesNotMatch(ConfirmationUrl(), _page.Url);
        await AssertAccessibleAsync(_page, "after the cart changed");

        await _page.ClickAsync("#pay");

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Contains("$44.97", await _page.TextContentAsync("main"), StringComparison.Ordinal);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task WithoutJavaScript_CartChangedAfterReview_ShowsTheNewTotal_AndPaysItOnlyWhenAskedAgain()
    {
        var noScript = await browser.NewPageAsync(javaScript: false);
        try
        {
            await ToCheckoutAsync(noScript);
            await ChooseCardOnTheHostedPageAsync(noScript);
            await noScript.Context.APIRequest.PutAsync($"/api/v2/carts/{CartIdOf(noScript)}/items/SKU-MUG-12OZ", new() { DataObject = new { quantity = 3 } });

            await noScript.ClickAsync("#pay");

            await noScript.WaitForSelectorAsync("#error-summary p");
            Assert.Contains("Your cart changed since you reviewed it. The total is now $44.97.", await noScript.TextContentAsync("#error-summary p"), StringComparison.Ordinal);
            Assert.Equal("$44.97", await noScript.TextContentAsync("#total"));
            Assert.DoesNotMatch(ConfirmationUrl(), noScript.Url);
            Assert.Equal("Visa •••• 4242", await noScript.TextContentAsync("#card-summary"));
            await noScript.ClickAsync("#pay");
            await noScript.WaitForURLAsync(ConfirmationUrl());
            Assert.Contains("$44.97", await noScript.TextContentAsync("main"), StringComparison.Ordinal);
        }
        finally
        {
            await noScript.Context.CloseAsync();
        }
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task BackButton_ReturnsToThePreviousStep_AndAReloadKeepsWhatWasTyped()
    {
        await ToCheckoutAsync(_page);
        var checkoutUrl = _page.Url;
        await FillAsync(_page);
        await _page.ClickAsync("#section-shipping button.continue");
        await Eventually(async () => await ActiveIdAsync(_page) == "method-card");
        await _page.ClickAsync("#section-payment button.continue");
        await Eventually(async () => await _page.EvaluateAsync<bool>("() => document.getElementById('section-review').open"));
        var card = await _page.InputValueAsync("#payment-method");
        Assert.StartsWith("pm_", card, StringComparison.Ordinal);

        await _page.GoBackAsync();
        await Eventually(async () => await ActiveIdAsync(_page) == "method-card");
        Assert.Equal("Visa •••• 4242", await _page.TextContentAsync("#card-summary"));
        await _page.GoBackAsync();
        await Eventually(async () => await ActiveIdAsync(_page) == "email");
        Assert.Equal("user4827@example.com", await _page.InputValueAsync("#email"));
        Assert.Equal(checkoutUrl, _page.Url);

        await _page.ReloadAsync();
        Assert.Equal("742 Evergreen Terrace", await _page.InputValueAsync("#line1"));
        Assert.Equal(card, await _page.InputValueAsync("#payment-method"));
        Assert.Equal("Visa •••• 4242", await _page.TextContentAsync("#card-summary"));
        await _page.WaitForSelectorAsync("#section-payment .saved:not([hidden])", new() { State = WaitForSelectorState.Attached });
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task PaymentMethods_CardIsChosen_ApplePayIsShownDisabledWithItsNote()
    {
        await ToCheckoutAsync(_page);
        var methods = _page.GetByRole(AriaRole.Group, new() { Name = "Pay with" });
        Assert.True(await methods.GetByRole(AriaRole.Radio, new() { Name = "Card" }).IsCheckedAsync());
        var applePay = methods.GetByRole(AriaRole.Radio, new() { Name = "Apple Pay" });
        Assert.True(await applePay.IsVisibleAsync());
        Assert.True(await applePay.IsDisabledAsync());
        Assert.Equal("apple-pay-note", await applePay.GetAttributeAsync("aria-describedby"));
        await Assertions.Expect(CardFrame(_page).GetByLabel("Card number")).ToBeVisibleAsync();
        Assert.True(await _page.IsHiddenAsync("#hosted-card"));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task MobileViewport_375px_HasNoSidewaysScroll_AndWorks()
    {
        var phone = await browser.NewPageAsync(new ViewportSize { Width = 375, Height = 812 });
        try
        {
            await ToCheckoutAsync(phone);
            await Assertions.Expect(CardFrame(phone).GetByLabel("Card number")).ToBeVisibleAsync();
            Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 375"), "the page scrolls sideways at 375 px");
            Assert.True(await CardFrame(phone).Locator("html").EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), "the card fields scroll sideways");
            await ShotAsync(phone, "checkout-mobile");
            await FillAsync(phone);
            Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 375"), "the page scrolls sideways with the card typed");
            await phone.ClickAsync("#pay");
            await phone.WaitForURLAsync(ConfirmationUrl());
            await ShotAsync(phone, "confirmation-mobile");
        }
        finally
        {
            await phone.Context.CloseAsync();
        }
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task ErrorBoundary_AnAnswerThePageCannotRead_LeavesItUsable()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page);
        await _page.RouteAsync("**/api/v2/checkout/guest", route => route.FulfillAsync(new() { Status = 200, ContentType = "text/html", Body = "<html>upstream proxy page</html>" }));

        await _page.ClickAsync("#pay");

        await _page.WaitForSelectorAsync("#error-summary:has-text('Something went wrong on this page')");
        Assert.Equal("false", await _page.GetAttributeAsync("#pay", "aria-disabled"));
        Assert.Equal("user4827@example.com", await _page.InputValueAsync("#email"));
        await _page.UnrouteAsync("**/api/v2/checkout/guest");
        await _page.ClickAsync("#pay");
        await _page.WaitForURLAsync(ConfirmationUrl());
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task AnalyticsEvents_TheFunnelIsStored_WithoutPersonalData()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        await _page.ClickAsync("#pay");
        await _page.WaitForSelectorAsync("#email-error");
        await FillAsync(_page);
        await _page.ClickAsync("#section-shipping button.continue");
        await Eventually(async () => await ActiveIdAsync(_page) == "method-card");
        await _page.ClickAsync("#pay");
        await _page.WaitForURLAsync(ConfirmationUrl());

        string[] funnel = ["checkout_viewed", "validation_error", "section_completed", "payment_submitted", "order_completed"];
        IReadOnlyList<string> stored = [];
        await Eventually(async () =>
        {
            stored = await browser.Host.AnalyticsEventsAsync(cartId);
            return funnel.All(name => stored.Any(e => e.Contains($"\"name\":\"{name}\"", StringComparison.Ordinal)));
        });
        Assert.DoesNotContain(stored, e => e.Contains('@', StringComparison.Ordinal) || e.Contains("Evergreen", StringComparison.Ordinal) || e.Contains("pm_", StringComparison.Ordinal));
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task Processing_ShowsTheSpinnerWithItsScreenReaderText_AndIsAccessible()
    {
        await ToCheckoutAsync(_page);
        var cartId = CartIdOf(_page);
        await FillAsync(_page);
        var release = new TaskCompletionSource();
        await _page.RouteAsync("**/api/v2/checkout/guest", async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });

        await _page.ClickAsync("#pay");

        await _page.WaitForSelectorAsync("#processing", new() { State = WaitForSelectorState.Visible });
        Assert.Equal("Processing your payment, please wait", (await _page.TextContentAsync("#processing"))!.Trim());
        Assert.Equal("status", await _page.EvaluateAsync<string>("() => document.getElementById('processing').parentElement.getAttribute('role')"));
        Assert.Equal("true", await _page.GetAttributeAsync("#pay", "aria-disabled"));
        await _page.ClickAsync("#pay", new() { Force = true }); // a double click pays once
        await AssertAccessibleAsync(_page, "processing");
        release.SetResult();
        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal(1, browser.Host.Gateway.Ledger(cartId).Charges);
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task WithoutJavaScript_TheHostedCardPage_KeepsWhatWasTyped_ThenPlacesTheOrder()
    {
        var noScript = await browser.NewPageAsync(javaScript: false);
        try
        {
            await ToCheckoutAsync(noScript);
            var cartId = CartIdOf(noScript);
            Assert.True(await noScript.IsVisibleAsync("#hosted-card"));
            await AssertAccessibleWithoutScriptsAsync(noScript.Url, "without JavaScript");

            await ChooseCardOnTheHostedPageAsync(noScript);

            // Back from the provider: the details from the guest session, the card as the provider named it.
            Assert.Equal("user4827@example.com", await noScript.InputValueAsync("#email"));
            Assert.Equal("742 Evergreen Terrace", await noScript.InputValueAsync("#line1"));
            Assert.Equal("62704", await noScript.InputValueAsync("#zip"));
            Assert.Equal("Visa •••• 4242", await noScript.TextContentAsync("#card-summary"));
            Assert.True(await noScript.IsVisibleAsync("#card-change"));
            Assert.StartsWith("pm_", await noScript.InputValueAsync("#payment-method"), StringComparison.Ordinal);
            var cookie = Assert.Single(await noScript.Context.CookiesAsync(), c => c.Name == "checkout_session");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
            Assert.Equal("/checkout/guest", cookie.Path);

            await noScript.ClickAsync("#pay");
            await noScript.WaitForURLAsync(ConfirmationUrl());
            Assert.Equal("Thank you, your order is placed", await noScript.TextContentAsync("h1"));
            Assert.Equal(1, browser.Host.Gateway.Ledger(cartId).Charges);
        }
        finally
        {
            await noScript.Context.CloseAsync();
        }
    }

    [Fact(Timeout = BrowserFixture.TestTimeoutMs)]
    public async Task TheWholePage_WeighsFarUnder30KBGzipped()
    {
        await ToCheckoutAsync(_page);
        // A first visit, with nothing cached: the page and everything it loads.
        var fresh = await browser.NewPageAsync();
        var checkoutResources = new List<(string Url, byte[] Body)>();
        fresh.Response += async (_, response) =>
        {
            if (!response.Url.EndsWith("/api/v2/analytics/events", StringComparison.Ordinal))
            {
                checkoutResources.Add((response.Url, await response.BodyAsync()));
            }
        };
        await fresh.GotoAsync(_page.Url, new() { WaitUntil = WaitUntilState.NetworkIdle });
        await Assertions.Expect(CardFrame(fresh).GetByLabel("Card number")).ToBeVisibleAsync();
        var interactiveMs = await fresh.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].domInteractive");
        var loadedMs = await fresh.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd");
        await fresh.Context.CloseAsync();

        var raw = checkoutResources.Sum(b => b.Body.Length);
        var gzipped = checkoutResources.Sum(b => Gzipped(b.Body));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"checkout page and everything it loads: {checkoutResources.Count} responses ({string.Join(", ", checkoutResources.Select(r => new Uri(r.Url).AbsolutePath))}), " +
            $"{raw} bytes, {gzipped} bytes gzipped; DOM interactive after {interactiveMs:F0} ms, script run and ready after {loadedMs:F0} ms");
        // The payment provider's script and card frame count too: the shopper loads them with the page.
        Assert.Contains(checkoutResources, r => new Uri(r.Url).AbsolutePath == "/v3/stripe.js");
        Assert.Contains(checkoutResources, r => new Uri(r.Url).AbsolutePath == "/v3/elements/card");
        Assert.InRange(gzipped, 1, 30 * 1024);
    }

    private static int Gzipped(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(body);
        }
        return (int)output.Length;
    }
}
