using System.Diagnostics;
using System.Text.RegularExpressions;

namespace CheckoutService.Edge;

/// <summary>
/// Every response carries <c>X-Request-ID</c> (the client's, when it is sane, else <c>req_</c> + 12 hex)
/// and <c>X-Trace-ID</c>. The id becomes <see cref="HttpContext.TraceIdentifier"/>, so error bodies
/// and log scopes use the same one.
/// </summary>
public static partial class RequestIds
{
    public const string Header = "X-Request-ID";
    public const string TraceHeader = "X-Trace-ID";

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex Sane();

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var sent = context.Request.Headers[Header];
        var activity = Activity.Current;
        // The server span's id is random already and names this request alone (the trace id may be a
        // caller's, shared by many requests): reusing it costs nothing, and a log line leads to its span.
        context.TraceIdentifier = sent.Count == 1 && Sane().IsMatch(sent[0]!) ? sent[0]!
            : activity is null ? Ids.Request()
            : Ids.RequestPrefix + activity.SpanId.ToHexString()[..12];
        var traceId = activity?.TraceId.ToHexString() ?? ActivityTraceId.CreateRandom().ToHexString();
        // Set when the response starts, because an error handler clears headers set before it.
        context.Response.OnStarting(static state =>
        {
            var (ctx, trace) = ((HttpContext, string))state;
            ctx.Response.Headers[Header] = ctx.TraceIdentifier;
            ctx.Response.Headers[TraceHeader] = trace;
            return Task.CompletedTask;
        }, (context, traceId));
        return next(context);
    });
}
