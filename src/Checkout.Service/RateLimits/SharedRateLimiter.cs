using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;

namespace CheckoutService.RateLimits;

/// <summary>
/// An endpoint's limit: <paramref name="Limit"/> requests per <paramref name="Window"/>, counted per
/// client IP, or per what <paramref name="PartitionOf"/> names (one session's writes, say).
/// With <paramref name="PostsOnly"/>, reading a page is free and only submitting its forms counts.
/// </summary>
public sealed record RateLimitPolicy(string Name, int Limit, TimeSpan Window, Func<HttpContext, string>? PartitionOf = null, bool PostsOnly = false);

/// <summary>A page's own per-client limit on every request, as a Razor component declares it (<c>@attribute</c>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PerClientLimitAttribute(string name, int perMinute) : Attribute
{
    public RateLimitPolicy Policy { get; } = new(name, perMinute, TimeSpan.FromMinutes(1));
}

/// <summary>
/// The global limiter for ASP.NET Core's rate-limiting middleware: per client IP, fixed windows
/// counted in <see cref="IRateLimitCounters"/> so every replica sees the same count. It is
/// hand-written because it must set the <c>X-RateLimit-*</c> headers clients read (and the IETF draft's
/// <c>RateLimit</c> ones) on every answer, which needs the request; the framework's limiters see
/// only a partition key. Endpoints opt in with <see cref="RateLimitPolicy"/> metadata.
/// </summary>
internal sealed class SharedRateLimiter(IRateLimitCounters counters, TimeProvider time) : PartitionedRateLimiter<HttpContext>
{
    private static readonly RateLimitLease Allowed = new Lease(true, null);
    private static readonly RateLimitLease TryAsync = new Lease(false, null);

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    // The count lives in the shared store, so nothing can be decided without asking it.
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
        Policy(resource) is null ? Allowed : TryAsync;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        if (Policy(resource) is not { } policy)
        {
            return Allowed;
        }
        var now = time.GetUtcNow();
        var windowIndex = now.ToUnixTimeMilliseconds() / (long)policy.Window.TotalMilliseconds;
        var resetAt = DateTimeOffset.FromUnixTimeMilliseconds((windowIndex + 1) * (long)policy.Window.TotalMilliseconds);
        var partition = policy.PartitionOf is { } partitionOf ? Truncate(partitionOf(resource)) : ClientKey(resource.Connection.RemoteIpAddress);
        resource.GetEndpoint()?.Metadata.GetMetadata<ReadAhead>()?.Start(resource);
        var count = await counters.HitAsync($"{policy.Name}:{partition}:{windowIndex}", policy.Window, cancellationToken);

        var remaining = Math.Max(0, policy.Limit - count);
        var resetSeconds = (long)Math.Ceiling((resetAt - now).TotalSeconds);
        var headers = resource.Response.Headers;
        headers["X-RateLimit-Limit"] = policy.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = resetAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Policy"] = $"\"{policy.Name}\";q={policy.Limit};w={(long)policy.Window.TotalSeconds}";
        headers["RateLimit"] = $"\"{policy.Name}\";r={remaining};t={resetSeconds}";
        return count <= policy.Limit ? Allowed : new Lease(false, TimeSpan.FromSeconds(Math.Max(1, resetSeconds)));
    }

    /// <summary>The endpoint's limit for this request: its convention's, else one its page declares (<see cref="PerClientLimitAttribute"/>).</summary>
    private static RateLimitPolicy? Policy(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        return Applies(metadata?.GetMetadata<RateLimitPolicy>(), context) ?? Applies(metadata?.GetMetadata<PerClientLimitAttribute>()?.Policy, context);
    }

    private static RateLimitPolicy? Applies(RateLimitPolicy? policy, HttpContext context) =>
        policy is not null && (!policy.PostsOnly || HttpMethods.IsPost(context.Request.Method)) ? policy : null;

    /// <summary>A partition may hold the client's text: it names a counter, so it is kept short.</summary>
    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64];

    /// <summary>IPv6 clients are counted per /64, the block one subscriber usually has.</summary>
    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return address.ToString();
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
