using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace CheckoutService.Edge;

/// <summary>
/// What an API gateway would do for these routes, done by the service itself: client IPs from trusted
/// proxies only, the security headers on every response, and a CORS policy for the shop's
/// origins that endpoints opt into with <c>RequireCors(CorsPolicy)</c>.
/// </summary>
public static class EdgeProtections
{
    public const string CorsPolicy = "shop-origins";

    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IServiceCollection AddEdgeProtections(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => AreValidProxies(s.TrustedProxies), "TRUSTED_PROXIES must be IP addresses or CIDR ranges, comma-separated.");
        services.AddBodyLimits();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<CheckoutSettings>>((options, settings) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = null; // walk back through every trusted hop, stop at the first untrusted one
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var entry in Split(settings.Value.TrustedProxies))
            {
                if (entry.Contains('/', StringComparison.Ordinal))
                {
                    options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
                }
                else
                {
                    options.KnownProxies.Add(IPAddress.Parse(entry));
                }
            }
        });
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<CheckoutSettings>>((options, settings) =>
            options.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins([.. Split(settings.Value.CorsAllowedOrigins)])
                .WithMethods("POST", "OPTIONS")
                .WithHeaders("Content-Type", "X-Request-ID", "Idempotency-Key")
                .WithExposedHeaders("X-Request-ID", "X-Trace-ID", "Retry-After", "Idempotent-Replayed",
                    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit", "RateLimit-Policy")
                .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return services;
    }

    public static IApplicationBuilder UseEdgeProtections(this IApplicationBuilder app)
    {
        // The TCP peer, kept before the forwarded headers replace it: only it says whether a proxy is trusted.
        app.Use((context, next) =>
        {
            context.Features.Set(new TcpPeer(context.Connection.RemoteIpAddress));
            return next(context);
        });
        app.UseForwardedHeaders();
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var response = ((HttpContext)state).Response;
                var headers = response.Headers;
                headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains; preload";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer"; // no URL of ours, token or id, travels to another site
                if (response.HttpContext.Request.Path.StartsWithSegments("/api"))
                {
                    headers.CacheControl = "no-store, no-cache";
                    headers.Pragma = "no-cache";
                }
                else
                {
                    // The page's scripts and styles are files of this service; nothing inline, nothing from elsewhere.
                    // A page that needs more (the checkout's card fields from the gateway) sets its own, which stands.
                    if (string.IsNullOrEmpty(headers.ContentSecurityPolicy))
                    {
                        headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    }
                }
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
        return app;
    }

    /// <summary>
    /// Whether the request came from a trusted proxy (<c>TRUSTED_PROXIES</c>), so a header the edge
    /// sets, such as the visitor's region, can be believed. Decided by the TCP peer as the connection
    /// gave it (<see cref="TcpPeer"/>), never by a header: a client can send <c>X-Original-For</c> too.
    /// </summary>
    public static bool CameThroughTrustedProxy(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.RequestServices.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        var peer = context.Features.Get<TcpPeer>() is { } tcp ? tcp.Address : context.Connection.RemoteIpAddress;
        if (peer is null)
        {
            return false;
        }
        peer = peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer;
        return options.KnownProxies.Contains(peer) || options.KnownIPNetworks.Any(network => network.Contains(peer));
    }

    /// <summary>Rejects a malformed TRUSTED_PROXIES at start-up instead of at the first request.</summary>
    private static bool AreValidProxies(string value) => Split(value).All(entry =>
        entry.Contains('/', StringComparison.Ordinal) ? System.Net.IPNetwork.TryParse(entry, out _) : IPAddress.TryParse(entry, out _));

    private static string[] Split(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The address the request's TCP connection came from, before any forwarded header rewrote the client's.</summary>
public sealed record TcpPeer(IPAddress? Address);
