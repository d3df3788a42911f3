using CheckoutService.Flags;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace CheckoutService.Page;

/// <summary>
/// The checkout page honours <c>guest_checkout_v2</c>: a visitor the flag does not serve is sent to
/// the legacy checkout with their cart, and counted there (<c>checkout_started{flow="legacy"}</c>).
/// A visitor already shown the page keeps it (a session cookie), so killing the flag turns away new
/// visitors at once while checkouts under way finish.
/// </summary>
public static class FlagGate
{
    public const string InProgressCookie = "guest_v2_checkout";
    public const string CheckoutPath = "/checkout/guest";

    public static IApplicationBuilder UseFlagGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals(CheckoutPath, StringComparison.OrdinalIgnoreCase)
            && context.Request.Cookies[InProgressCookie] is null)
        {
            var services = context.RequestServices;
            var metrics = services.GetRequiredService<CheckoutMetrics>();
            var decision = await services.GetRequiredService<GuestCheckoutFlag>().DecideAsync(context, services.GetRequiredService<IFeatureManager>(), metrics);
            if (!decision.Enabled)
            {
                metrics.CheckoutStarted.WithLabels(CheckoutMetrics.Legacy, metrics.Region).Inc();
                context.Response.Redirect(LegacyUrl(services.GetRequiredService<IOptions<CheckoutSettings>>().Value.LegacyCheckoutUrl, context.Request.Query["cart_id"]));
                return;
            }
            context.Response.Cookies.Append(InProgressCookie, "1", new CookieOptions
            {
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                Path = CheckoutPath,
                IsEssential = true,
            });
        }
        await next(context);
    });

    private static string LegacyUrl(string legacy, string? cartId) =>
        cartId is { Length: > 0 and <= 64 }
            ? legacy + (legacy.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "cart_id=" + Uri.EscapeDataString(cartId)
            : legacy;
}
