using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using static LoadTest.Report;

namespace LoadTest;

/// <summary>
/// --scenario sessions-20k (SPEC §3: 20,000 concurrent guest sessions, zero errors): that many shoppers
/// each open a cart and a session (over the 8,192 client addresses), then, all of them still alive,
/// every session is read back, gets its shipping address saved, and is read once more by its token,
/// which must answer 200 with that shopper's cart, email and the address.
/// </summary>
internal sealed class ManySessions(Options o) : IScenario
{
    // What the run holds in the in-process store: per session its cart, itself, its expiry-index entry
    // and its write counter; per client address three counters (carts, session starts, reads) in each
    // of up to two one-minute windows.
    private long EntriesNeeded => (4L * o.Sessions) + (3 * 2 * 8192);

    public string Name => "sessions-20k";
    public bool CompareToBare => false;
    public bool WriteReport => o.Report ?? true;

    public async Task RunAsync(Lab lab, CancellationToken ct)
    {
        // The default cap (INPROCESS_STORE_MAX_ENTRIES, 200,000) is set explicitly, with twice the room
        // the run needs, so that a larger --sessions measures sessions and not the cap's 503s.
        var cap = Math.Max(200_000, 2 * EntriesNeeded);
        var options = o with { ServiceEnvironment = new Dictionary<string, string?> { ["INPROCESS_STORE_MAX_ENTRIES"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        await using var target = await lab.StartAsync(options, needsService: true, ct);
        var shoppers = target.Shoppers;
        var concurrency = o.ShoppersOr(64);
        // Tiered JIT and the connection pool settle first, so opening measures the sessions and not the start-up.
        await shoppers.MeasureAsync(new Step(Workload.SessionRead, concurrency, null, o.Warmup), ct, "warm-up");
        var memory = new List<(string When, long? Bytes)> { ("after the warm-up", target.Services.ServiceMemory()) };

        var opened = new ConcurrentQueue<OpenedSession>();
        var open = await PhaseAsync($"opening {o.Sessions:N0} sessions", Enumerable.Range(0, o.Sessions), concurrency, async (_, m) =>
        {
            if (await shoppers.OpenSessionAsync(m) is { } session)
            {
                opened.Enqueue(session);
            }
        }, ct);
        memory.Add(($"{opened.Count:N0} sessions open", target.Services.ServiceMemory()));
        var sessions = opened.ToArray();
        var read = await PhaseAsync("reading each back", sessions, concurrency, (s, m) => shoppers.ReadBackAsync(m, s, Stopwatch.GetTimestamp()), ct);
        var save = await PhaseAsync("saving an address on each", sessions, concurrency, (s, m) => shoppers.SaveAddressAsync(m, s), ct);
        var intact = 0L;
        var check = await PhaseAsync("checking each by its token", sessions, concurrency, async (s, m) =>
        {
            if (await shoppers.ReadBackAsync(m, s, Stopwatch.GetTimestamp(), addressSaved: true))
            {
                Interlocked.Increment(ref intact);
            }
        }, ct);
        memory.Add(("at the end", target.Services.ServiceMemory()));

        var phases = new[] { ("open: cart + session", open), ("read back", read), ("save an address", save), ("read by token, checked", check) };
        var errors = phases.Sum(p => p.Item2.Errors);
        lab.Checks.Add(new($"{o.Sessions:N0} sessions open at once, each read back intact", intact == o.Sessions && errors == 0,
            $"{sessions.Length:N0} opened, {intact:N0} answered 200 with their own cart, email and saved address at the end; {errors} errors"));
        lab.Sections.Add(Section(phases, sessions.Length, intact, memory, cap, inProcess: o is { Redis: null, Url: null }));
    }

    /// <summary>Every item once, <paramref name="concurrency"/> at a time, timed as one window.</summary>
    private static async Task<Measurement> PhaseAsync<T>(string label, IEnumerable<T> items, int concurrency, Func<T, Measurement, Task> each, CancellationToken ct)
    {
        var m = new Measurement();
        Console.WriteLine(label);
        m.OpenWindow(TimeSpan.FromDays(1));
        await Progress.ShowAsync(label, m, Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (item, _) => await each(item, m)));
        m.CloseWindow();
        return m;
    }

    private string Section((string Name, Measurement M)[] phases, int opened, long intact, List<(string When, long? Bytes)> memory, long cap, bool inProcess)
    {
        var open = phases[0].M;
        var text = new StringBuilder(Inv($"## {o.Sessions:N0} concurrent sessions")).AppendLine().AppendLine()
            .AppendLine(Inv($"{opened:N0} of {o.Sessions:N0} sessions opened in {open.Window.TotalSeconds:0.0} s ({opened / open.Window.TotalSeconds:N0} sessions/s), {o.ShoppersOr(64)} at a time; ")
                + "all of them alive (TTL 900 s) while each was read back, had its shipping address saved and was read once more by its token: "
                + Inv($"{intact:N0} answered 200 with their own cart, email and address."))
            .AppendLine()
            .AppendLine("| phase | endpoint | requests | s | req/s | p50 ms | p99 ms | max ms | errors |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, m) in phases)
        {
            foreach (var (endpoint, stats) in m.Endpoints)
            {
                text.AppendLine(Inv($"| {name} | {endpoint} | {stats.Count:N0} | {m.Window.TotalSeconds:0.0} | {N(m.PerSecond(stats))} | {Ms(stats.Ms(50))} | {Ms(stats.Ms(99))} | {Ms(stats.MaxMs)} | {stats.Errors} |"));
            }
        }
        text.AppendLine().AppendLine("| service memory (RSS) | MB |").AppendLine("|---|---:|");
        foreach (var (when, bytes) in memory)
        {
            text.AppendLine($"| {when} | {(bytes is { } b ? N(b / 1048576.0) : "–")} |");
        }
        if (inProcess)
        {
            text.AppendLine().AppendLine(Inv($"In process, the store's cap `INPROCESS_STORE_MAX_ENTRIES` (default 200,000) was set to {cap:N0}: the run holds about {EntriesNeeded:N0} entries ")
                + "(per session its cart, itself, its expiry-index entry and its write counter; per client address three rate-limit counters in each of up to two minute windows).");
        }
        return text.ToString();
    }
}
