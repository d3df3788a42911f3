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

    /// <summary>Where every answer is also counted by when it came, in the scenarios that change things mid-step.</summary>
    public Timeline? Timeline { get; init; }
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
internal sealed class Checks
{
    private readonly bool _ledgerAvailable;
    private readonly ConcurrentDictionary<string, long> _unexpected = new();
    private readonly ConcurrentDictionary<string, long> _examples = new();
    private readonly ConcurrentDictionary<(string? Endpoint, int Status), long> _allowed = new();
    private readonly ConcurrentQueue<PlacedOrder> _unverified = new();
    private readonly ConcurrentQueue<string> _unpaid = new();
    private readonly ConcurrentQueue<CheckResult> _scenario = new();
    private long _ordersPlaced, _chargesChecked, _chargeViolations;
    private long _unpaidCarts, _unpaidChecked, _doubleCharges;
    private long _sessionsRead, _sessionsLost;
    private long _responses, _serverErrors;
    private long _lookups, _lookupFailures;
    private long _exampleOrder;

    public Checks(bool allow503, bool ledgerAvailable)
    {
        _ledgerAvailable = ledgerAvailable;
        if (allow503)
        {
            Allow(503);
        }
    }

    /// <summary>Whether a 503 is retried after its Retry-After, as the page does, rather than failing the run.</summary>
    public bool Allow503 => _allowed.ContainsKey((null, 503));

    /// <summary>A status the scenario expects, from one endpoint or (null) from any: counted, not a failure.</summary>
    public void Allow(int status, string? endpoint = null) => _allowed.TryAdd((endpoint, status), 0);

    /// <summary>An answer, with the service's error code when it was not the one expected.</summary>
    public void Responded(string endpoint, int status, bool expected, string? code = null)
    {
        Interlocked.Increment(ref _responses);
        (string?, int) allowed = _allowed.ContainsKey((endpoint, status)) ? (endpoint, status) : (null, status);
        if (_allowed.ContainsKey(allowed))
        {
            _allowed.AddOrUpdate(allowed, 1, (_, n) => n + 1);
        }
        else if (status >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
            Example($"{endpoint} answered {status}");
        }
        else if (!expected)
        {
            Unexpected(endpoint, status.ToString(CultureInfo.InvariantCulture) + (code is null ? "" : " " + code));
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

    /// <summary>A checkout that gave no order: its cart may hold at most one live charge (the sweep voids it later).</summary>
    public void NotPaid(string cartId)
    {
        Interlocked.Increment(ref _unpaidCarts);
        _unpaid.Enqueue(cartId);
    }

    public IReadOnlyList<PlacedOrder> TakeUnverified() => Drain(_unverified);

    public IReadOnlyList<string> TakeUnpaid() => Drain(_unpaid);

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

    public void ChargedUnpaid(string cartId, int liveCharges)
    {
        Interlocked.Increment(ref _unpaidChecked);
        if (liveCharges is < 0 or > 1)
        {
            Interlocked.Increment(ref _doubleCharges);
            Example($"unpaid cart {cartId} has {liveCharges} live charges");
        }
    }

    /// <summary>A check of the scenario's own (a bound on a failover's 503s, a recovery), listed after the common ones.</summary>
    public void Add(CheckResult result)
    {
        _scenario.Enqueue(result);
        if (!result.Passed)
        {
            Example(result.Name + ": " + result.Detail);
        }
    }

    public IReadOnlyList<CheckResult> Results()
    {
        var unexpected = _unexpected.Values.Sum();
        var unexpectedDetail = unexpected == 0 ? "none" : string.Join(", ", _unexpected.OrderByDescending(u => u.Value).Select(u => $"{u.Key}: {u.Value}"));
        var allowed = _allowed.Where(a => a.Value > 0).Select(a => $"{a.Value} {a.Key.Status}s{(a.Key.Endpoint is null ? "" : " from " + a.Key.Endpoint)}").ToList();
        List<CheckResult> results =
        [
            _ledgerAvailable
                ? new("every order has exactly one live charge in the gateway ledger", _chargeViolations == 0,
                    $"{_chargesChecked} of {_ordersPlaced} orders checked, {_chargeViolations} without exactly one")
                : new("every order has exactly one live charge in the gateway ledger", true, "no gateway ledger in this run (--url without --gateway-url, or no service)", Skipped: true),
        ];
        if (_unpaidCarts > 0 && _ledgerAvailable)
        {
            results.Add(new("no cart charged twice", _doubleCharges == 0,
                $"{_unpaidChecked} of {_unpaidCarts} carts whose checkout gave no order checked, {_doubleCharges} with more than one live charge"));
        }
        results.AddRange(
        [
            new("no session lost before its TTL", _sessionsLost == 0, $"{_sessionsRead} sessions read back by their tokens, {_sessionsLost} lost"),
            new("no 5xx response", _serverErrors == 0,
                $"{_serverErrors} of {_responses} responses" + (allowed.Count == 0 ? "" : $"; allowed in this run: {string.Join(", ", allowed)}"
                    + (Allow503 ? " (503s retried after their Retry-After)" : ""))),
            new("every order placed can be looked up", _lookupFailures == 0, $"{_lookups} of {_ordersPlaced} looked up, {_lookupFailures} failed"),
            new("every other answer was the one the funnel expects", unexpected == 0, unexpectedDetail),
            .. _scenario,
        ]);
        return results;
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

    private static List<T> Drain<T>(ConcurrentQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryDequeue(out var item))
        {
            items.Add(item);
        }
        return items;
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
    /// Open loop: iteration i (a funnel, or one request) is due at start + i/rate whether or not earlier
    /// ones have finished, and its latency counts from then, so a slow service cannot hide its queueing
    /// (coordinated omission).
    /// </summary>
    public static async Task RunOpenAsync(Measurement m, double rate, TimeSpan duration, Func<long, Task> iteration, CancellationToken ct)
    {
        const int MaxInFlight = 20_000; // a bound on the tool's own memory; an iteration held back still counts from its due time
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
                    await iteration(due);
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
