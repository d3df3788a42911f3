using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace CheckoutService.Edge;

/// <summary>
/// Reads each request body once, whole, into memory bounded by its endpoint's limit (8 KB; 64 KB
/// for webhooks), before anything else looks at it. Everything after it (the checkout's
/// read-ahead, the <c>Idempotency-Key</c> fingerprint, the endpoint's binding) reads that one
/// buffer; nothing touches the connection's body again. Two readers of one body race, and when
/// the body came after its headers the race turned valid checkouts into 400s and 500s
/// (docs/decisions/0012). A request refused later, with a 429, has had its body read, so its
/// connection stays usable.
/// </summary>
public static class BufferedBody
{
    /// <summary>Reads the body of every request routed to an endpoint; runs after routing, which sets the endpoint's limit.</summary>
    public static IApplicationBuilder UseBufferedBodies(this IApplicationBuilder app) => app.Use(static async (context, next) =>
    {
        if (context.GetEndpoint() is not null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            var bytes = await ReadWholeAsync(context.Request.BodyReader, BodyLimits.Of(context), context.RequestAborted);
            context.Features.Set(new Feature(bytes));
            context.Request.Body = new MemoryStream(bytes, writable: false);
        }
        await next(context);
    });

    /// <summary>The body as the client sent it; empty when it sent none.</summary>
    public static ReadOnlyMemory<byte> Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<Feature>()?.Bytes ?? ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>Kestrel refuses a body past the limit as it reads; the check here holds for any server.</summary>
    private static async Task<byte[]> ReadWholeAsync(System.IO.Pipelines.PipeReader reader, long limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.Buffer.Length > limit)
            {
                reader.AdvanceTo(read.Buffer.End);
                throw new BadHttpRequestException("Request body too large", StatusCodes.Status413PayloadTooLarge);
            }
            if (read.IsCompleted)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private sealed record Feature(byte[] Bytes);
}
