using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Spectre.Console;

namespace LoadTest;

/// <summary>One endpoint's latencies within a step, in microseconds.</summary>
internal sealed class EndpointStats
{
    private long _errors;
    private long _inWindow;

    // Up to ten minutes at three significant digits: 0.1 % resolution, enough for p99.9.
    public LongConcurrentHistogram Latency { get; } = new(1, 600_000_000, 3);
    public long Errors => Interlocked.Read(ref _errors);
    public long Count => Latency.TotalCount;

    /// <summary>Completed within the step's window: what throughput counts.</summary>
    public long InWindow => Interlocked.Read(ref _inWindow);

    public void Record(long microseconds, bool ok, bool inWindow)
    {
        Latency.RecordValue(Math.Clamp(microseconds, 1, Latency.HighestTrackableValue));
        if (!ok)
        {
            Interlocked.Increment(ref _errors);
        }
        if (inWindow)
        {
            Interlocked.Increment(ref _inWindow);
        }
    }

    public void Add(EndpointStats other)
    {
        Latency.Add(other.Latency);
        Interlocked.Add(ref _errors, other.Errors);
        Interlocked.Add(ref _inWindow, other.InWindow);
    }

    public double Ms(double percentile) => Latency.GetValueAtPercentile(percentile) / 1000.0;
    public double MaxMs => Latency.GetMaxValue() / 1000.0;
}

/// <summary>Everything recorded in one step: per-endpoint histograms, and the counters the progress line shows.</summary>
internal sealed class Measurement
{
    public const string FunnelEndpoint = "whole funnel";
    public const string BareEndpoint = "GET bare";

    /// <summary>Where set-up and verification requests go: timed like the rest, never reported.</summary>
    public static Measurement Discarded { get; } = new();

    private readonly ConcurrentDictionary<string, EndpointStats> _endpoints = new();
    private long _requests;
    private long _errors;
    private long _windowStart;
    private long _windowEnd = long.MaxValue;

    public long Requests => Interlocked.Read(ref _requests);
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>
    /// The step's measuring window. Throughput counts what completed inside it; the funnels still
    /// running at its end finish and add their latencies, but not their counts (a slow tail would
    /// otherwise stretch the window and understate the rate).
    /// </summary>
    public TimeSpan Window { get; private set; }
    public string? Note { get; set; }
    public IReadOnlyDictionary<string, EndpointStats> Endpoints => _endpoints;

    /// <summary>Latency runs from the intended start, so a request that waited for a late predecessor shows its wait.</summary>
    public void Record(string endpoint, long intendedStart, long end, bool ok)
    {
        _endpoints.GetOrAdd(endpoint, _ => new EndpointStats()).Record(Microseconds(intendedStart, end), ok, end <= Volatile.Read(ref _windowEnd));
        if (endpoint == FunnelEndpoint)
        {
            return;
        }
        Interlocked.Increment(ref _requests);
        if (!ok)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public void OpenWindow(TimeSpan duration)
    {
        _windowStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref _windowEnd, _windowStart + (long)(duration.TotalSeconds * Stopwatch.Frequency));
    }

    /// <summary>Closes the window at its planned end, or earlier when the load stopped early (the carts ran out).</summary>
    public void CloseWindow()
    {
        var now = Stopwatch.GetTimestamp();
        Window = Stopwatch.GetElapsedTime(_windowStart, Math.Min(now, _windowEnd));
    }

    public double PerSecond(EndpointStats stats) => Window > TimeSpan.Zero ? stats.InWindow / Window.TotalSeconds : 0;

    /// <summary>All requests to the service (not the funnels, which are made of them), as one histogram.</summary>
    public EndpointStats Combined()
    {
        var all = new EndpointStats();
        foreach (var (_, stats) in _endpoints.Where(e => e.Key != FunnelEndpoint))
        {
            all.Add(stats);
        }
        return all;
    }

    private static long Microseconds(long start, long end) => Stopwatch.GetElapsedTime(start, end).Ticks / (TimeSpan.TicksPerMillisecond / 1000);
}

internal sealed record StepResult(Step Step, Measurement Service, Measurement? Bare);

/// <summary>An order the service confirmed, still to be checked against the ledger (and looked up, when the funnel did not).</summary>
internal sealed record PlacedOrder(string CartId, string OrderId, string ConfirmationToken, long Visitor, bool LookedUp);

internal sealed record CheckResult(string Name, bool Passed, string Detail, bool Skipped = false);

/// <summary>The correctness checks of the whole run; any violation makes the exit code non-zero.</summary>
internal sealed class Checks(bool allow503, bool ledgerAvailable)
{
    private readonly ConcurrentDictionary<string, long> _unexpected = new();
    private readonly ConcurrentDictionary<string, long> _examples = new();
    private readonly ConcurrentQueue<PlacedOrder> _unverified = new();
    private long _ordersPlaced, _chargesChecked, _chargeViolations;
    private long _sessionsRead, _sessionsLost;
    private long _responses, _serverErrors, _allowed503;
    private long _lookups, _lookupFailures;
    private long _exampleOrder;

    public bool Allow503 => allow503;

    public void Responded(string endpoint, int status, bool expected)
    {
        Interlocked.Increment(ref _responses);
        if (status == 503 && allow503)
        {
            Interlocked.Increment(ref _allowed503);
        }
        else if (status >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
            Example($"{endpoint} answered {status}");
        }
        else if (!expected)
        {
            Unexpected(endpoint, status.ToString(CultureInfo.InvariantCulture));
        }
    }

    public void Unexpected(string endpoint, string what)
    {
        _unexpected.AddOrUpdate($"{endpoint} {what}", 1, (_, n) => n + 1);
        Example($"{endpoint} answered {what}");
    }

    public void SessionRead(bool found)
    {
        Interlocked.Increment(ref _sessionsRead);
        if (!found)
        {
            Interlocked.Increment(ref _sessionsLost);
        }
    }

    public void OrderPlaced(PlacedOrder order)
    {
        Interlocked.Increment(ref _ordersPlaced);
        _unverified.Enqueue(order);
    }

    public IReadOnlyList<PlacedOrder> TakeUnverified()
    {
        var orders = new List<PlacedOrder>();
        while (_unverified.TryDequeue(out var order))
        {
            orders.Add(order);
        }
        return orders;
    }

    public void LookedUp(string orderId, bool found)
    {
        Interlocked.Increment(ref _lookups);
        if (!found)
        {
            Interlocked.Increment(ref _lookupFailures);
            Example($"order {orderId} could not be looked up");
        }
    }

    public void Charged(string cartId, int liveCharges)
    {
        Interlocked.Increment(ref _chargesChecked);
        if (liveCharges != 1)
        {
            Interlocked.Increment(ref _chargeViolations);
            Example($"cart {cartId} has {liveCharges} live charges");
        }
    }

    public IReadOnlyList<CheckResult> Results()
    {
        var unexpected = _unexpected.Values.Sum();
        var unexpectedDetail = unexpected == 0 ? "none" : string.Join(", ", _unexpected.OrderByDescending(u => u.Value).Select(u => $"{u.Key}: {u.Value}"));
        return
        [
            ledgerAvailable
                ? new("every order has exactly one live charge in the gateway ledger", _chargeViolations == 0,
                    $"{_chargesChecked} of {_ordersPlaced} orders checked, {_chargeViolations} without exactly one")
                : new("every order has exactly one live charge in the gateway ledger", true, "no gateway ledger in this run (--url without --gateway-url, or no service)", Skipped: true),
            new("no session lost before its TTL", _sessionsLost == 0, $"{_sessionsRead} sessions read after the payment method was saved, {_sessionsLost} lost"),
            new("no 5xx response", _serverErrors == 0,
                $"{_serverErrors} of {_responses} responses" + (allow503 ? $"; {_allowed503} 503s allowed and retried (--allow-503)" : "")),
            new("every order placed can be looked up", _lookupFailures == 0, $"{_lookups} of {_ordersPlaced} looked up, {_lookupFailures} failed"),
            new("every other answer was the one the funnel expects", unexpected == 0, unexpectedDetail),
        ];
    }

    public IEnumerable<string> Examples => _examples.OrderBy(e => e.Value).Select(e => e.Key);

    public bool AllPassed => Results().All(r => r.Passed);

    /// <summary>Up to ten distinct violations, kept to be shown beside the counts.</summary>
    private void Example(string what)
    {
        if (_examples.Count < 10)
        {
            _examples.TryAdd(what, Interlocked.Increment(ref _exampleOrder));
        }
    }
}

/// <summary>The two ways of offering load.</summary>
internal static class LoadLoops
{
    /// <summary>
    /// Closed loop: each shopper starts its next iteration when the last one ends. An iteration
    /// returns false when it has nothing left to do (the checkout case's carts ran out).
    /// </summary>
    public static async Task RunClosedAsync(Measurement m, int shoppers, TimeSpan duration, Func<long, Task<bool>> iteration, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        m.OpenWindow(duration);
        await Task.WhenAll(Enumerable.Range(0, shoppers).Select(_ => Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested && Stopwatch.GetElapsedTime(start) < duration && await iteration(Stopwatch.GetTimestamp()))
            {
            }
        }, ct)));
        m.CloseWindow();
    }

    /// <summary>
    /// Open loop: funnel i is due at start + i/rate whether or not earlier ones have finished, and
    /// its latency counts from then, so a slow service cannot hide its queueing (coordinated omission).
    /// </summary>
    public static async Task RunOpenAsync(Measurement m, double rate, TimeSpan duration, Func<long, Task> funnel, CancellationToken ct)
    {
        const int MaxInFlight = 20_000; // a bound on the tool's own memory; a funnel held back still counts from its due time
        var start = Stopwatch.GetTimestamp();
        m.OpenWindow(duration);
        var interval = Stopwatch.Frequency / rate;
        var total = (long)(rate * duration.TotalSeconds);
        var running = new List<Task>();
        var inFlight = 0;
        for (long i = 0; i < total && !ct.IsCancellationRequested;)
        {
            var due = start + (long)(i * interval);
            if (Stopwatch.GetTimestamp() < due || Volatile.Read(ref inFlight) >= MaxInFlight)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System, CancellationToken.None);
                continue;
            }
            Interlocked.Increment(ref inFlight);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    await funnel(due);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }, CancellationToken.None));
            i++;
        }
        await Task.WhenAll(running);
        m.CloseWindow();
    }
}

/// <summary>The live progress line; nothing when the output is redirected (CI logs keep only the results).</summary>
internal static class Progress
{
    public static async Task ShowAsync(string label, Measurement m, Task work)
    {
        if (Console.IsOutputRedirected)
        {
            await work;
            return;
        }
        await AnsiConsole.Live(Line(label, m, 0)).AutoClear(true).StartAsync(async ctx =>
        {
            var (lastCount, lastTime) = (0L, Stopwatch.GetTimestamp());
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, CancellationToken.None));
                var (count, now) = (m.Requests, Stopwatch.GetTimestamp());
                var rate = (count - lastCount) / Math.Max(Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds, 0.001);
                (lastCount, lastTime) = (count, now);
                ctx.UpdateTarget(Line(label, m, rate));
            }
        });
        await work;
    }

    private static Markup Line(string label, Measurement m, double rate) => new(string.Create(CultureInfo.InvariantCulture,
        $"[bold]{Markup.Escape(label)}[/]  {m.Requests:N0} requests  [{(m.Errors == 0 ? "green" : "red")}]{m.Errors:N0} errors[/]  {rate:N0} req/s"));
}
