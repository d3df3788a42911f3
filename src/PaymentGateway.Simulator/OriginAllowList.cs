namespace PaymentGateway.Simulator;

/// <summary>
/// The origins the simulator sends shoppers back to (3-D Secure and hosted-card <c>return_url</c>s),
/// lets frame its pages, and talks to with <c>postMessage</c>: an open redirect or a card field
/// framed by any site would be the holes a real gateway must not have.
/// </summary>
public sealed class OriginAllowList(IEnumerable<string> origins, bool allowLoopback)
{
    private readonly HashSet<string> _origins = origins.Select(o => OriginOf(o) ?? throw new ArgumentException($"Not an http(s) origin: {o}", nameof(origins)))
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    public static OriginAllowList From(SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.AllowedOrigins, options.AllowLoopbackOrigins);
    }

    /// <summary>An absolute http(s) URL on an allowed origin.</summary>
    public bool Allows(string? url) => OriginOf(url) is { } origin && IsListed(origin);

    /// <summary>An origin as a browser sends it (<c>scheme://host[:port]</c>, no path), and allowed.</summary>
    public bool AllowsOrigin(string? origin) =>
        OriginOf(origin) is { } parsed && string.Equals(parsed, origin, StringComparison.OrdinalIgnoreCase) && IsListed(parsed);

    private bool IsListed(string origin) => _origins.Contains(origin) || (allowLoopback && new Uri(origin).IsLoopback);

    /// <summary>The CSP source list for these origins (loopback ones on any port, as tests pick free ports).</summary>
    public string SourceList => string.Join(' ', allowLoopback ? [.. _origins, "http://127.0.0.1:*", "http://localhost:*"] : _origins);

    /// <summary><c>scheme://host[:port]</c> of an absolute http(s) URL without user info; null for anything else.</summary>
    public static string? OriginOf(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
}
