using CheckoutService.Orders;

namespace CheckoutService.Page;

/// <summary>
/// The confirmation page opens an order with its confirmation token from an HttpOnly, SameSite=Strict
/// cookie for that order, never from the URL: a URL is logged, kept in history and passed on. The
/// paying POST sets it (Post/Redirect/Get); the page's script, which gets the token from the API,
/// hands it over the same way, by a form POST to <see cref="OpenPath"/>.
/// </summary>
public static class ConfirmationPass
{
    public const string PagePath = "/checkout/guest/confirmation";
    public const string OpenPath = "/checkout/guest/confirmation/open";

    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);

    public static string PageUrl(string orderId) => $"{PagePath}?order_id={Uri.EscapeDataString(orderId)}";

    public static void Give(HttpContext context, string orderId, string confirmationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Append(CookieName(orderId), confirmationToken, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = PagePath,
            MaxAge = Lifetime,
            IsEssential = true,
        });
    }

    /// <summary>The token this browser was given for the order, if any.</summary>
    public static string? Read(HttpContext context, string? orderId)
    {
        ArgumentNullException.ThrowIfNull(context);
        return orderId is { Length: > 0 and <= 64 } ? context.Request.Cookies[CookieName(orderId)] : null;
    }

    /// <summary>
    /// <c>POST order_id, confirmation_token</c> (a form of this site's own page: another site's is
    /// refused by its <c>Origin</c>): the pass is given if the token opens the order, then 303 to the
    /// confirmation page, which says "not found" otherwise.
    /// </summary>
    public static async Task OpenAsync(HttpContext context, IOrderStore orders)
    {
        ArgumentNullException.ThrowIfNull(context);
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var orderId = form?["order_id"].ToString() ?? "";
        var token = form?["confirmation_token"].ToString() ?? "";
        if (FromThisSite(context) && await OrdersApi.OpenAsync(orders, orderId, token, context.RequestAborted) is { } order)
        {
            Give(context, order.OrderId, token);
        }
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = PageUrl(orderId.Length <= 64 ? orderId : "");
    }

    /// <summary>
    /// A browser says where a form came from in <c>Sec-Fetch-Site</c>; its <c>Origin</c> is "null" under
    /// this site's <c>Referrer-Policy: no-referrer</c>, so that header counts only for clients without the first.
    /// </summary>
    private static bool FromThisSite(HttpContext context) =>
        context.Request.Headers["Sec-Fetch-Site"] is [{ } site]
            ? site == "same-origin"
            : context.Request.Headers.Origin is not [{ } origin] || origin == $"{context.Request.Scheme}://{context.Request.Host}";

    /// <summary>Order ids are this service's own (<c>ord_</c> and letters and digits), so a cookie may be named after one.</summary>
    private static string CookieName(string orderId) => "cnf_" + orderId;
}
