using CheckoutService.Edge;
using CheckoutService.Payments;
using Microsoft.Extensions.Options;

namespace CheckoutService.Page;

/// <summary>
/// The payment provider's browser side as the checkout page uses it: Stripe.js from
/// <c>PAYMENT_JS_URL</c> with <c>STRIPE_PUBLISHABLE_KEY</c>, whose card fields live in the provider's
/// iframe, and its hosted card page for shoppers without JavaScript. Card data goes from the
/// shopper's browser to that origin only (PCI SAQ A), so the page's policy names that one origin
/// and nothing else. Unset, the script is the gateway simulator's, known once the host has started.
/// </summary>
public sealed class PaymentScript
{
    private readonly Lazy<Uri> _scriptUrl;
    private readonly Lazy<string> _policy;

    internal PaymentScript(IOptions<CheckoutSettings> settings, GatewayEndpoint gateway)
    {
        PublishableKey = settings.Value.StripePublishableKey;
        _scriptUrl = new(() => settings.Value.PaymentJsUrl is { Length: > 0 } configured
            ? new Uri(configured)
            : new Uri(gateway.BaseAddress, "v3/stripe.js"));
        _policy = new(() => PolicyFor(Origin));
    }

    public Uri ScriptUrl => _scriptUrl.Value;

    public string PublishableKey { get; }

    /// <summary><c>scheme://host[:port]</c> of the script: the one origin the page lets script, frames and form posts go to.</summary>
    public string Origin => ScriptUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The checkout page's Content-Security-Policy: the service's own, plus the provider's origin.</summary>
    public string PagePolicy => _policy.Value;

    /// <summary>The provider's hosted card page, returning the shopper to <paramref name="returnUrl"/> with <c>payment_method</c>, <c>brand</c> and <c>last4</c>.</summary>
    public string HostedCardUrl(string returnUrl) =>
        $"{Origin}/v3/hosted/card?return_url={Uri.EscapeDataString(returnUrl)}";

    /// <summary>
    /// Script and frames for the card fields and the 3-D Secure modal; form-action because a browser
    /// checks it on the redirect after a post too, and without JavaScript the page's form leads there
    /// (the hosted card page, a 3-D Secure challenge).
    /// </summary>
    internal static string PolicyFor(string origin) =>
        EdgeProtections.ContentSecurityPolicy
            .Replace("script-src 'self'", $"script-src 'self' {origin}", StringComparison.Ordinal)
            .Replace("form-action 'self'", $"form-action 'self' {origin}; frame-src {origin}", StringComparison.Ordinal);

    /// <summary>An absolute https URL, or http on a loopback host (a simulator on this machine).</summary>
    internal static bool IsValidUrl(string? url) =>
        url is null or ""
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length == 0
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)));
}
