using CheckoutService.Edge;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;

namespace CheckoutService.RateLimits;

/// <summary>What a checkout's declines so far say, read before it may reach the gateway.</summary>
public sealed record DeclineCounts(DeclineCount? Cart, DeclineCount? Session, DeclineCount? Client);

/// <summary>
/// Bounds card testing: after <c>RATE_LIMIT_DECLINES_PER_CART</c> declines on a cart or a guest session,
/// or <c>RATE_LIMIT_DECLINES_PER_IP_PER_HOUR</c> from one client, its checkouts get 429
/// <c>TOO_MANY_DECLINES</c> until the count lapses. Refused checkouts reach no gateway, so they add no decline.
/// </summary>
public sealed class DeclineLimits(IDeclineCounters counters, IOptions<CheckoutSettings> options, CheckoutMetrics metrics)
{
    private readonly DeclineRule _perCart = new(options.Value.DeclinesPerCart,
        TimeSpan.FromSeconds(options.Value.DeclineRefusalSeconds), TimeSpan.FromSeconds(options.Value.DeclineRefusalSeconds));
    private readonly DeclineRule _perClient = new(options.Value.DeclinesPerIpPerHour,
        TimeSpan.FromHours(1), TimeSpan.FromSeconds(options.Value.DeclineRefusalSeconds));

    /// <summary>The three counts at once: one round trip, which the read-ahead overlaps with the cart's read.</summary>
    public async Task<DeclineCounts> ReadAsync(string cartId, string? sessionId, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cart = counters.ReadAsync(CartKey(cartId), cancellationToken);
        var session = sessionId is null ? Task.FromResult<DeclineCount?>(null) : counters.ReadAsync(SessionKey(sessionId), cancellationToken);
        var client = counters.ReadAsync(ClientKey(context), cancellationToken);
        await Task.WhenAll(cart, session, client);
        return new DeclineCounts(await cart, await session, await client);
    }

    /// <summary>The 429 for a checkout whose cart, session or client is over its limit (counted in the refusals metric), or null.</summary>
    public NamedError? Refusal(DeclineCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var over = new (string Scope, DeclineCount? Count, DeclineRule Rule)[]
            {
                ("cart", counts.Cart, _perCart), ("session", counts.Session, _perCart), ("ip", counts.Client, _perClient),
            }
            .Where(c => c.Count is { } count && count.Count >= c.Rule.Limit && count.Remaining > TimeSpan.Zero)
            .ToList();
        if (over.Count == 0)
        {
            return null;
        }
        foreach (var (scope, _, _) in over)
        {
            metrics.DeclineLimitRefusals.WithLabels(scope).Inc();
        }
        var wait = over.Max(c => c.Count!.Remaining);
        return Errors.TooManyDeclines.RetryAfter(Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
    }

    /// <summary>Counts a decline on the cart, the session that paid and the client, together.</summary>
    public Task CountAsync(string cartId, string sessionId, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.WhenAll(
            counters.CountAsync(CartKey(cartId), _perCart, cancellationToken),
            counters.CountAsync(SessionKey(sessionId), _perCart, cancellationToken),
            counters.CountAsync(ClientKey(context), _perClient, cancellationToken));
    }

    private static string CartKey(string cartId) => "cart:" + cartId;

    private static string SessionKey(string sessionId) => "sess:" + sessionId;

    private static string ClientKey(HttpContext context) => "ip:" + SharedRateLimiter.ClientKey(context.Connection.RemoteIpAddress);
}
