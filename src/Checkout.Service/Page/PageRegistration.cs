using CheckoutService.Page.Components;
using CheckoutService.RateLimits;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace CheckoutService.Page;

/// <summary>
/// The storefront and the GuestCheckoutPanel page: Razor components rendered on the server
/// (static SSR), so the page works before, or without, any script; forms post with antiforgery
/// and redirect after success. Its stylesheet and scripts are embedded in the assembly and served
/// by the service itself, so the page needs nothing from anywhere else.
/// </summary>
public static class PageRegistration
{
    public static IServiceCollection AddPage(this IServiceCollection services)
    {
        services.AddRazorComponents();
        return services;
    }

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
        return app;
    }
}
