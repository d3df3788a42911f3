using CheckoutService.Page.Components;
using CheckoutService.Payments;
using CheckoutService.RateLimits;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace CheckoutService.Page;

/// <summary>
/// The storefront and the GuestCheckoutPanel page: Razor components rendered on the server
/// (static SSR), so the page works before, or without, any script; forms post with antiforgery
/// and redirect after success. Its stylesheet and scripts are embedded in the assembly and served
/// by the service itself. The one thing from elsewhere is the payment provider's script and its card
/// iframe (<see cref="PaymentScript"/>), so card data never reaches this service.
/// </summary>
public static class PageRegistration
{
    public static IServiceCollection AddPage(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => PaymentScript.IsValidUrl(s.PaymentJsUrl),
                "PAYMENT_JS_URL must be an absolute https URL (http only on a loopback host), such as https://js.stripe.com/v3/.")
            // Only a real gateway needs it: the simulator (embedded on purpose, or PAYMENT_GATEWAY_URL unset, which Payments refuses) serves its own.
            .Validate<IHostEnvironment>((s, environment) => !environment.IsProduction() || !string.IsNullOrEmpty(s.PaymentJsUrl)
                    || s.PaymentGatewayUrl is null or "" or GatewayEndpoint.Embedded,
                "PAYMENT_JS_URL is not set: in Production the checkout page loads Stripe.js from it (https://js.stripe.com/v3/), "
                + "not from svc-payment-gateway, which does not serve it.");
        services.AddSingleton(sp => new PaymentScript(sp.GetRequiredService<IOptions<CheckoutSettings>>(), sp.GetRequiredService<GatewayEndpoint>()));
        services.AddRazorComponents();
        return services;
    }

    /// <summary>
    /// The checkout page's Content-Security-Policy, which lets the payment provider's script and frames
    /// in. The edge sends its own policy only on a response that has none, so this one stands.
    /// </summary>
    public static IApplicationBuilder UseCheckoutPagePolicy(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.Path.Equals(GuestCheckoutPath, StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.ContentSecurityPolicy = context.RequestServices.GetRequiredService<PaymentScript>().PagePolicy;
            }
            return next(context);
        });

    public const string GuestCheckoutPath = "/checkout/guest";

    public static IApplicationBuilder UsePageAssets(this IApplicationBuilder app) =>
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(PageRegistration).Assembly, "CheckoutService.Page.Assets"),
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });

    /// <summary>The pages' forms create carts and pay: they count against the checkout's per-IP limit.</summary>
    public static IEndpointRouteBuilder MapPage(this IEndpointRouteBuilder app)
    {
        app.MapRazorComponents<App>().FormPostsPerClientPerMinute("page-forms",
            app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value.CheckoutRateLimitPerMinute);
        // A look-up by token, as the API's and the confirmation page's: the same per-address count.
        app.MapPost(ConfirmationPass.OpenPath, ConfirmationPass.OpenAsync).PerClientPerMinute("order-lookup", Orders.OrdersApi.LookupsPerMinute)
            .ExcludeFromDescription();
        return app;
    }
}
