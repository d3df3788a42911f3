using CheckoutService.Flags;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.DataProtection;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace CheckoutService.Page;

/// <summary>
/// The checkout page honours <c>guest_checkout_v2</c>: a visitor the flag does not serve is sent to
/// the legacy checkout with their cart, and counted there (<c>checkout_started{flow="legacy"}</c>).
/// A visitor already shown the page for a cart keeps it (a pass in a cookie), so killing the flag
/// turns away new visitors at once while checkouts under way finish. The gate is on the routed
/// page, whatever the path's spelling (<c>/checkout/guest/</c>, <c>/Checkout/Guest/.</c>), and the
/// pass is signed by the shared key ring and names its cart: a cookie a client writes is no pass.
/// </summary>
public static class FlagGate
{
    public const string InProgressCookie = "guest_v2_checkout";
    public const string CheckoutPath = "/checkout/guest";

    /// <summary>How long a pass lets a checkout under way finish after a kill.</summary>
    public static readonly TimeSpan PassLifetime = TimeSpan.FromHours(2);

    public static IApplicationBuilder UseFlagGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>()?.Type == typeof(Components.GuestCheckout))
        {
            var services = context.RequestServices;
            var cartId = context.Request.Query["cart_id"].ToString();
            var passes = Passes(services);
            if (!Holds(passes, context.Request.Cookies[InProgressCookie], cartId))
            {
                var metrics = services.GetRequiredService<CheckoutMetrics>();
                var decision = await services.GetRequiredService<GuestCheckoutFlag>().DecideAsync(context, services.GetRequiredService<IFeatureManager>(), metrics);
                if (!decision.Enabled)
                {
                    metrics.CheckoutStarted.WithLabels(CheckoutMetrics.Legacy, metrics.Region).Inc();
                    context.Response.Redirect(LegacyUrl(services.GetRequiredService<IOptions<CheckoutSettings>>().Value.LegacyCheckoutUrl, cartId));
                    return;
                }
                context.Response.Cookies.Append(InProgressCookie, passes.Protect(cartId, PassLifetime), new CookieOptions
                {
                    HttpOnly = true,
                    Secure = context.Request.IsHttps,
                    SameSite = SameSiteMode.Lax,
                    Path = CheckoutPath,
                    IsEssential = true,
                });
            }
        }
        await next(context);
    });

    private static ITimeLimitedDataProtector Passes(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("checkout.page-pass.v1").ToTimeLimitedDataProtector();

    /// <summary>Whether the cookie is a live pass we gave for this very cart.</summary>
    private static bool Holds(ITimeLimitedDataProtector passes, string? cookie, string cartId)
    {
        if (cookie is not { Length: > 0 and <= 1024 })
        {
            return false;
        }
        try
        {
            return passes.Unprotect(cookie) == cartId;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }

    private static string LegacyUrl(string legacy, string? cartId) =>
        cartId is { Length: > 0 and <= 64 }
            ? legacy + (legacy.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "cart_id=" + Uri.EscapeDataString(cartId)
            : legacy;
}
