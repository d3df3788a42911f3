using CheckoutService.Sessions;

namespace CheckoutService.Page;

/// <summary>
/// The guest session's token for a shopper without JavaScript, who leaves the page for the payment
/// provider's hosted card page or a 3-D Secure challenge and comes back: HttpOnly (no script reads
/// it), SameSite=Lax (sent on the provider's redirect back, a top-level GET, and on the page's own
/// posts), scoped to the checkout page, Secure whenever the request is.
/// </summary>
internal static class GuestSessionCookie
{
    public const string Name = "checkout_session";

    public static string? Read(HttpContext context) =>
        context.Request.Cookies[Name] is { Length: > 0 and <= 512 } token ? token : null;

    /// <summary>The session the cookie opens, if it is this cart's.</summary>
    public static async Task<StoredSession?> OpenAsync(HttpContext context, GuestSessions sessions, string cartId) =>
        Read(context) is { } token && await sessions.OpenAsync(null, token, context.RequestAborted) is { } stored && stored.Session.CartId == cartId
            ? stored
            : null;

    public static void Write(HttpContext context, string token) =>
        context.Response.Cookies.Append(Name, token, Options(context));

    public static void Delete(HttpContext context)
    {
        if (Read(context) is not null)
        {
            context.Response.Cookies.Delete(Name, Options(context));
        }
    }

    private static CookieOptions Options(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = context.Request.IsHttps,
        Path = PageRegistration.GuestCheckoutPath,
        IsEssential = true,
    };
}
