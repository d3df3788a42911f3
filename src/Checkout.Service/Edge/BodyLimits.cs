using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CheckoutService.Edge;

/// <summary>
/// How big a request body may be: 8 KB on every endpoint unless it says otherwise (the webhook
/// takes 64 KB with <c>RequestSizeLimitAttribute</c>). Kestrel enforces it while the body is read,
/// chunked or not, so no body is ever held whole before it is refused.
/// </summary>
public static class BodyLimits
{
    public const long Json = 8 * 1024;

    public static IServiceCollection AddBodyLimits(this IServiceCollection services) =>
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = Json);

    /// <summary>The limit in force for this request.</summary>
    public static long Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? Json;
    }

    public static string Describe(long bytes) => bytes % 1024 == 0
        ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + " KB"
        : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}
