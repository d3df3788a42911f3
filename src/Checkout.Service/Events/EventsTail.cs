using System.Text.Json;
using CheckoutService.Storage;

namespace CheckoutService.Events;

/// <summary>
/// <c>dotnet run --project src/Checkout.Service -- events tail [--no-follow]</c>: prints the outbox
/// as JSON lines, oldest first, sent or not, then follows new events (once a second) until stopped.
/// Without Kafka this is where the events are read.
/// </summary>
public static class EventsTail
{
    public const int PageSize = 500;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        if (args is not ["events", "tail", .. var options] || options.Any(o => o != "--no-follow"))
        {
            await output.WriteLineAsync("usage: events tail [--no-follow]");
            return 2;
        }
        var time = services.GetRequiredService<TimeProvider>();
        var outbox = services.GetRequiredService<Outbox>();
        var follow = options.Length == 0;
        var last = 0L;
        try
        {
            while (true)
            {
                var rows = await outbox.AfterAsync(last, PageSize, cancellationToken);
                foreach (var row in rows)
                {
                    await output.WriteLineAsync(Line(row));
                    last = row.Seq;
                }
                await output.FlushAsync(cancellationToken);
                if (rows.Count == PageSize)
                {
                    continue;
                }
                if (!follow)
                {
                    return 0;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0; // Ctrl+C
        }
    }

    /// <summary>One event as a JSON line: where it goes, how its delivery stands, and its body as the broker gets it.</summary>
    public static string Line(OutboxRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", row.Seq);
            json.WriteString("event_id", row.Event.EventId);
            json.WriteString("topic", row.Event.Topic);
            json.WriteString("key", row.Event.Key);
            json.WriteString("event_type", row.Event.EventType);
            json.WriteString("created_at", row.Event.CreatedAt);
            json.WriteString("state", row.SentAt is not null ? "sent" : row.ParkedAt is not null ? "parked" : "pending");
            if (row.LastError is { } error)
            {
                json.WriteString("last_error", error);
            }
            json.WritePropertyName("payload");
            json.WriteRawValue(row.Event.Payload);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
