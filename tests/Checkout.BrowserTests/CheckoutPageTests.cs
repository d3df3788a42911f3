using System.IO.Compression;
using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
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

    private static async Task FillAsync(IPage page, string paymentMethodId = "pm_stripe_4f9c2a1b")
    {
        await page.FillAsync("#email", "user4827@example.com");
        await page.FillAsync("#line1", "742 Evergreen Terrace");
        await page.FillAsync("#city", "Springfield");
        await page.FillAsync("#state", "IL");
        await page.FillAsync("#zip", "62704");
        await page.FillAsync("#country", "US");
        await page.FillAsync("#payment-method", paymentMethodId);
    }

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

    private static async Task AssertAccessibleAsync(IPage page, string state)
    {
        var result = await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
        Assert.True(result.Violations.Length == 0,
            $"{state}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}")));
    }

    [GeneratedRegex(@"/checkout/guest\?cart_id=cart_\w+$")]
    private static partial Regex CheckoutUrl();

    [GeneratedRegex(@"/checkout/guest/confirmation\?")]
    private static partial Regex ConfirmationUrl();

    [Fact]
    public async Task HappyPath_FromTheStoreToTheConfirmation_WithTheKeyboardAlone()
    {
        await _page.GotoAsync("/");
        await TabToAsync(_page, "qty-SKU-MUG-12OZ");
        await _page.Keyboard.TypeAsync("2");
        await _page.Keyboard.PressAsync("Enter");
        await _page.WaitForURLAsync(CheckoutUrl());
        await AssertAccessibleAsync(_page, "empty");

        foreach (var (id, text) in new (string, string)[] { ("email", "user4827@example.com"), ("line1", "742 Evergreen Terrace"), ("city", "Springfield"),
                     ("state", "IL"), ("zip", "62704"), ("country", "US"), ("payment-method", "pm_stripe_4f9c2a1b") })
        {
            await TabToAsync(_page, id);
            await _page.Keyboard.PressAsync("Control+A");
            await _page.Keyboard.TypeAsync(text);
        }
        await TabToAsync(_page, "pay");
        await _page.Keyboard.PressAsync("Enter");

        await _page.WaitForURLAsync(ConfirmationUrl());
        Assert.Equal("Thank you, your order is placed", await _page.TextContentAsync("h1"));
        Assert.Matches("^ord_[a-z0-9]{12}$", await _page.TextContentAsync("#order-id"));
        await AssertAccessibleAsync(_page, "confirmation");
        await _page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.OutputDirectory, "confirmation-desktop.png"), FullPage = true });
    }

    [Fact]
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
        Assert.Equal("email", await _page.EvaluateAsync<string>("() => document.activeElement.id"));
        Assert.Equal("true", await _page.GetAttributeAsync("#email", "aria-invalid"));
        await AssertAccessibleAsync(_page, "errors shown");
    }

    [Fact]
    public async Task TheGatewayFailing_ShowsTheFriendlyMessage_AndKeepsWhatWasTyped()
    {
        await ToCheckoutAsync(_page);
        await FillAsync(_page, "pm_stripe_1a2b_down");

        await _page.ClickAsync("#pay");

        await _page.WaitForSelectorAsync("#error-summary h2");
        Assert.Contains("We're having trouble processing your payment. Please try again in a moment.", await _page.TextContentAsync("#error-summary"), StringComparison.Ordinal);
        Assert.Equal("742 Evergreen Terrace", await _page.InputValueAsync("#line1"));
        Assert.Equal("user4827@example.com", await _page.InputValueAsync("#email"));
    }

    [Fact]
    public async Task ApplePay_IsShownDisabled()
    {
        await ToCheckoutAsync(_page);
        var button = _page.Locator("button.apple-pay");
        Assert.True(await button.IsVisibleAsync());
        Assert.True(await button.IsDisabledAsync());
    }

    [Fact]
    public async Task MobileViewport_375px_HasNoSideways_Scroll_AndWorks()
    {
        var phone = await browser.NewPageAsync(new ViewportSize { Width = 375, Height = 812 });
        try
        {
            await ToCheckoutAsync(phone);
            Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 375"), "the page scrolls sideways at 375 px");
            await phone.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.OutputDirectory, "checkout-mobile.png"), FullPage = true });
            await FillAsync(phone);
            await phone.ClickAsync("#pay");
            await phone.WaitForURLAsync(ConfirmationUrl());
        }
        finally
        {
            await phone.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task WithoutJavaScript_TheFormStillPlacesTheOrder()
    {
        var noScript = await browser.NewPageAsync(javaScript: false);
        try
        {
            await ToCheckoutAsync(noScript);
            await FillAsync(noScript);
            await noScript.ClickAsync("#pay");
            await noScript.WaitForURLAsync(ConfirmationUrl());
            Assert.Equal("Thank you, your order is placed", await noScript.TextContentAsync("h1"));
        }
        finally
        {
            await noScript.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TheWholePage_WeighsFarUnder30KBGzipped()
    {
        await ToCheckoutAsync(_page);
        // A first visit, with nothing cached: the page and everything it loads.
        var fresh = await browser.NewPageAsync();
        var checkoutResources = new List<(string Url, byte[] Body)>();
        fresh.Response += async (_, response) => checkoutResources.Add((response.Url, await response.BodyAsync()));
        await fresh.GotoAsync(_page.Url, new() { WaitUntil = WaitUntilState.NetworkIdle });
        var interactiveMs = await fresh.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].domInteractive");
        await fresh.Context.CloseAsync();

        var raw = checkoutResources.Sum(b => b.Body.Length);
        var gzipped = checkoutResources.Sum(b => Gzipped(b.Body));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"checkout page and everything it loads: {checkoutResources.Count} responses, {raw} bytes, {gzipped} bytes gzipped; interactive after {interactiveMs:F0} ms");
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
