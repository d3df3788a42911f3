using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ScottPlot;

namespace LoadTest;

/// <summary>The results as Markdown tables (console and docs/performance/): the scenario's own sections, then each step's, with a latency plot per step.</summary>
internal sealed class Report(IScenario scenario, Lab lab, string command, string loadBefore)
{
    private readonly List<StepResult> results = lab.Results;
    private readonly Checks checks = lab.Checks;

    // Endpoints in the order a shopper calls them.
    private static readonly string[] FunnelOrder =
        ["GET bare", "GET products", "POST carts", "POST session", "PUT shipping-address", "PUT payment-method", "GET session", "POST checkout", "GET order"];

    private static readonly double[] Percentiles = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

    public string Tables()
    {
        var text = new StringBuilder();
        foreach (var section in lab.Sections)
        {
            text.AppendLine(section).AppendLine();
        }
        if (scenario.CompareToBare)
        {
            text.AppendLine("## Ratio to the bare endpoint").AppendLine()
                .AppendLine("| step | bare req/s | service req/s | × bare | funnels/s | p99 ms, all requests | errors |")
                .AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results.Where(r => r.Bare is not null))
            {
                var all = r.Service.Combined();
                var (rate, bare) = (r.Service.PerSecond(all), BareRate(r));
                var funnels = r.Service.Endpoints.TryGetValue(Measurement.FunnelEndpoint, out var f) ? N(r.Service.PerSecond(f)) : "–";
                text.AppendLine(Inv($"| {Title(r.Step)} | {N(bare)} | {N(rate)} | {Ratio(rate, bare)} | {funnels} | {Ms(all.Ms(99))} | {r.Service.Errors} |"));
            }
            text.AppendLine();
        }
        if (results.Count > 0)
        {
            text.AppendLine("## Per endpoint").AppendLine();
        }
        foreach (var r in results)
        {
            text.AppendLine(Inv($"### {Title(r.Step)}, {r.Service.Window.TotalSeconds:0.0} s")).AppendLine();
            if (r.Service.Note is { } note)
            {
                text.AppendLine(note).AppendLine();
            }
            text.AppendLine("| endpoint | requests | req/s | × bare | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |")
                .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var bare = BareRate(r);
            foreach (var (name, m, stats) in Rows(r, withTotal: true))
            {
                var rate = m.PerSecond(stats);
                text.AppendLine(Inv($"| {name} | {stats.Count:N0} | {N(rate)} | {Ratio(rate, bare)} | {Ms(stats.Ms(50))} | {Ms(stats.Ms(90))} | {Ms(stats.Ms(99))} | {Ms(stats.Ms(99.9))} | {Ms(stats.MaxMs)} | {stats.Errors} |"));
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    public string ChecksList()
    {
        var text = new StringBuilder("## Checks").AppendLine().AppendLine();
        foreach (var check in checks.Results())
        {
            text.AppendLine($"- {(check.Skipped ? "SKIP" : check.Passed ? "PASS" : "FAIL")} {check.Name}: {check.Detail}");
        }
        foreach (var example in checks.Examples)
        {
            text.AppendLine($"  - e.g. {example}");
        }
        return text.ToString();
    }

    /// <summary>Writes the report and its plots beside each other; returns the report's path.</summary>
    public async Task<string> WriteAsync(string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var now = TimeProvider.System.GetUtcNow();
        var name = $"{scenario.Name}-{now:yyyyMMdd-HHmmss}";
        var text = new StringBuilder()
            .AppendLine(Inv($"# Load test `{scenario.Name}`, {now:yyyy-MM-dd HH:mm} UTC")).AppendLine()
            .AppendLine($"Reproduce from the repo root: `{command}`").AppendLine()
            .AppendLine("| | |").AppendLine("|---|---|")
            .AppendLine($"| machine | {Machine()}; load average before the run {loadBefore} |")
            .AppendLine($"| code | {Commit()} |")
            .AppendLine($"| setup | {lab.Setup}; the load and the bare endpoint in the load tool's process, shoppers spread over 8,192 client addresses (X-Forwarded-For) |")
            .AppendLine($"| checks | {(checks.AllPassed ? "all passed" : "FAILED, see below")} |").AppendLine()
            .AppendLine((scenario.CompareToBare
                    ? "Every throughput figure is a ratio to `GET /bare`, a slim Kestrel endpoint answering a small JSON object, "
                        + "driven by the same client at the same concurrency (or rate) in the same run (SPEC §3: absolute numbers on these machines vary up to 2x). "
                    : "")
                + "req/s counts the requests completed within each step's window; latencies count from each request's intended start "
                + "and include the funnels that finish after the window.").AppendLine()
            .Append(Tables());
        for (var i = 0; i < results.Count; i++)
        {
            var png = $"{name}-{i + 1}.png";
            Plot(results[i], Path.Combine(directory, png));
            text.AppendLine(Inv($"![{Title(results[i].Step)}]({png})")).AppendLine();
        }
        text.Append(ChecksList());
        var path = Path.Combine(directory, name + ".md");
        await File.WriteAllTextAsync(path, text.ToString(), ct);
        return path;
    }

    /// <summary>Latency by percentile, one line per endpoint; both axes logarithmic so the tail and the median both show.</summary>
    private static void Plot(StepResult r, string path)
    {
        var plot = new Plot();
        var xs = Percentiles.Select(p => Math.Log10(100 / (100 - p))).Append(5.0).ToArray();
        var rows = Rows(r, withTotal: false).ToList();
        foreach (var (name, _, stats) in rows)
        {
            var ys = Percentiles.Select(stats.Ms).Append(stats.MaxMs).Select(ms => Math.Log10(Math.Max(ms, 0.01))).ToArray();
            plot.Add.Scatter(xs, ys).LegendText = name;
        }
        var highest = (int)Math.Ceiling(rows.Max(row => Math.Log10(Math.Max(row.Stats.MaxMs, 0.01))));
        var lowest = (int)Math.Floor(rows.Min(row => Math.Log10(Math.Max(row.Stats.Ms(0), 0.01))));
        var decades = Enumerable.Range(lowest, highest - lowest + 1).Select(d => (double)d).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(decades, [.. decades.Select(d => Inv($"{Math.Pow(10, d):0.##}"))]);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0, 1, 2, 3, 4, 5], ["0 %", "90 %", "99 %", "99.9 %", "99.99 %", "max"]);
        plot.Axes.SetLimitsY(lowest, highest);
        plot.Title(Title(r.Step));
        plot.XLabel("percentile");
        plot.YLabel("latency, ms");
        plot.ShowLegend(Edge.Right); // beside the plot: inside, it hides the fast endpoints' lines
        plot.SavePng(path, 1200, 560);
    }

    /// <summary>The bare endpoint first, then the service's endpoints in funnel order, then the totals.</summary>
    private static IEnumerable<(string Name, Measurement M, EndpointStats Stats)> Rows(StepResult r, bool withTotal)
    {
        if (r.Bare is { } bare)
        {
            yield return (Measurement.BareEndpoint, bare, bare.Endpoints[Measurement.BareEndpoint]);
        }
        foreach (var (name, stats) in r.Service.Endpoints.Where(e => e.Key != Measurement.FunnelEndpoint).OrderBy(e => Array.IndexOf(FunnelOrder, e.Key)))
        {
            yield return (name, r.Service, stats);
        }
        if (withTotal && r.Service.Endpoints.Count > 1)
        {
            yield return ("all requests", r.Service, r.Service.Combined());
        }
        if (r.Service.Endpoints.TryGetValue(Measurement.FunnelEndpoint, out var funnel))
        {
            yield return ("whole funnel", r.Service, funnel);
        }
    }

    private static double BareRate(StepResult r) => r.Bare is { } b ? b.PerSecond(b.Endpoints[Measurement.BareEndpoint]) : 0;

    private static string Title(Step step) => $"{step.Workload}, {step.Label}";

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} cores{(cpu is null ? "" : $" ({cpu})")}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string Commit()
    {
        var head = Git("rev-parse --short HEAD");
        var changed = Git("status --porcelain -- src")?.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length ?? 0;
        return head is null ? "unknown (no git)" : head + (changed == 0 ? "" : $" with uncommitted changes to {changed} files under src/");
    }

    private static string? Git(string args)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Services.RepoRoot(),
            });
            var output = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    // Shared with the scenarios' own sections, so every table writes numbers the same way.
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    public static string N(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);
    public static string Ratio(double rate, double bare) => bare > 0 ? (100 * rate / bare).ToString("0.0", CultureInfo.InvariantCulture) + " %" : "–";
    public static string Ms(double ms) => ms.ToString(ms < 10 ? "0.00" : ms < 100 ? "0.0" : "0", CultureInfo.InvariantCulture);
    public static string Mark(bool passed) => passed ? "✓" : "✗";
}
