namespace CheckoutService.RateLimits;

/// <summary>
/// The state a read-only endpoint needs, fetched while its rate-limit count is in flight: the two
/// commands go to Redis together, so the request waits one round trip instead of two. For reads
/// only: a request the limit refuses has fetched something nobody uses, and changed nothing.
/// </summary>
public sealed class ReadAhead(Func<HttpContext, Task> start)
{
    private static readonly object Started = new();

    /// <summary>Starts the read; called by the limiter just before it counts the request.</summary>
    internal void Start(HttpContext context)
    {
        var read = start(context);
        // Observed even when the limit refuses the request and nobody awaits it.
        _ = read.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        context.Items[Started] = read;
    }

    /// <summary>The read the limiter started for this request, or <paramref name="read"/> now when none was (no limit on the endpoint).</summary>
    public static Task<T> TakeOr<T>(HttpContext context, Func<HttpContext, Task<T>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return Taken<T>(context) ?? read(context);
    }

    /// <summary>The read the limiter started for this request, or null when none was.</summary>
    public static Task<T>? Taken<T>(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(Started, out var started) && started is Task<T> task)
        {
            context.Items.Remove(Started);
            return task;
        }
        return null;
    }
}
