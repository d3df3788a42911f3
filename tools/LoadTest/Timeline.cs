using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;

namespace LoadTest;

/// <summary>
/// What happened when, for the chaos scenarios: every answer (a retried 503 too) counted by status
/// in fixed slices of the run's clock, with its latency, and the scenario's events (a primary
/// killed, the gateway slowed) marked in the slice they fell in. Status 0 is no answer at all.
/// </summary>
internal sealed class Timeline(TimeSpan slice)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly ConcurrentDictionary<(int Slice, string Endpoint), Cell> _cells = new();
    private readonly ConcurrentQueue<(TimeSpan At, string What)> _events = new();
    private readonly ConcurrentDictionary<(string Endpoint, int Status), (TimeSpan First, TimeSpan Last)> _seen = new();
    private int _slices;

    public TimeSpan Slice => slice;
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
    public int Slices => Volatile.Read(ref _slices);
    public IEnumerable<(TimeSpan At, string What)> Events => _events.OrderBy(e => e.At);

    public void Record(string endpoint, int status, long start, long end)
    {
        var at = Stopwatch.GetElapsedTime(_start, end);
        var index = (int)(at / slice);
        var cell = _cells.GetOrAdd((index, endpoint), _ => new Cell());
        cell.Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
        cell.Latency.RecordValue(Math.Clamp(Stopwatch.GetElapsedTime(start, end).Ticks / 10, 1, cell.Latency.HighestTrackableValue));
        _seen.AddOrUpdate((endpoint, status), (at, at), (_, span) => (span.First < at ? span.First : at, span.Last > at ? span.Last : at));
        int seen;
        while ((seen = Volatile.Read(ref _slices)) <= index && Interlocked.CompareExchange(ref _slices, index + 1, seen) != seen)
        {
        }
    }

    public void Mark(string what) => _events.Enqueue((Elapsed, what));

    /// <summary>When the first and the last answer with a status chosen, from an endpoint chosen, came; null if none did.</summary>
    public (TimeSpan First, TimeSpan Last)? Seen(Func<string, bool> endpoint, Func<int, bool> status)
    {
        var spans = _seen.Where(s => endpoint(s.Key.Endpoint) && status(s.Key.Status)).Select(s => s.Value).ToList();
        return spans.Count == 0 ? null : (spans.Min(s => s.First), spans.Max(s => s.Last));
    }

    public long Count(int index, Func<string, bool> endpoint, Func<int, bool> status) =>
        Cells(index, endpoint).Sum(c => c.Statuses.Where(s => status(s.Key)).Sum(s => s.Value));

    /// <summary>The slice's p99 over the endpoints chosen; null when none answered in it.</summary>
    public double? P99Ms(int index, Func<string, bool> endpoint) => P99Ms(endpoint, index, index);

    /// <summary>The p99 over the slices <paramref name="from"/> to <paramref name="to"/> together; null when none answered in them.</summary>
    public double? P99Ms(Func<string, bool> endpoint, int from, int to)
    {
        var all = new LongHistogram(1, 60_000_000, 2);
        foreach (var cell in Enumerable.Range(from, Math.Max(0, to - from + 1)).SelectMany(i => Cells(i, endpoint)))
        {
            all.Add(cell.Latency);
        }
        return all.TotalCount == 0 ? null : all.GetValueAtPercentile(99) / 1000.0;
    }

    /// <summary>One row per slice, with the columns given and the events of that slice last.</summary>
    public string Table(params (string Header, Func<int, string> Value)[] columns)
    {
        var text = new StringBuilder()
            .AppendLine("| s | " + string.Join(" | ", columns.Select(c => c.Header)) + " | event |")
            .AppendLine("|---:|" + string.Concat(columns.Select(_ => "---:|")) + "---|");
        var events = Events.ToList();
        for (var i = 0; i < Slices; i++)
        {
            var marked = events.Where(e => (int)(e.At / slice) == i).Select(e => e.What);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(i * slice).TotalSeconds:0.##} | {string.Join(" | ", columns.Select(c => c.Value(i)))} | {string.Join("; ", marked)} |"));
        }
        return text.ToString();
    }

    private IEnumerable<Cell> Cells(int index, Func<string, bool> endpoint) =>
        _cells.Where(c => c.Key.Slice == index && endpoint(c.Key.Endpoint)).Select(c => c.Value);

    private sealed class Cell
    {
        public ConcurrentDictionary<int, long> Statuses { get; } = new();

        // A minute at two significant digits: a slice's p99 needs no finer grain, and there are many slices.
        public LongConcurrentHistogram Latency { get; } = new(1, 60_000_000, 2);
    }
}
