using System.Text;
using static LoadTest.Report;

namespace LoadTest;

/// <summary>
/// --scenario gateway-brownout: shoppers arriving at a steady rate (an open loop: new ones keep coming
/// while earlier ones wait on the gateway, as on the real site) while the gateway simulator is well,
/// then slow (2 s a call), then failing (502 to every create and confirm), then well again. Checkouts
/// may answer 502 (and 503, retried); the rest of the funnel must not slow down, the circuit breaker
/// (Payments/GatewayResilience.cs) should open while the gateway fails, and checkouts should come back
/// by themselves once it recovers. No cart may be charged twice.
/// </summary>
internal sealed class GatewayBrownout(Options o) : IScenario
{
    private const string Checkout = "POST checkout";

    // Polly logs these at Error and Warning, which the service keeps; the circuit closing is Information, seen as 201s again.
    private static readonly string[] BreakerMoves = ["OnCircuitOpened", "OnCircuitHalfOpened"];

    // Shares of the run (5, 10, 25 and 20 s by default). The failure lasts long enough for the breaker's 30 s
    // window to see mostly failures; the recovery, for its 15 s break to end and its probe to pass.
    private static readonly (string Phase, double Share, int LatencyMs, bool Outage)[] Phases =
        [("well", 5 / 60.0, 0, false), ("slow", 10 / 60.0, 2000, false), ("failing", 25 / 60.0, 0, true), ("recovered", 20 / 60.0, 0, false)];

    public string Name => "gateway-brownout";
    public bool CompareToBare => false;
    public bool WriteReport => o.Report ?? true;

    public async Task RunAsync(Lab lab, CancellationToken ct)
    {
        await using var target = await lab.StartAsync(o, needsService: true, ct);
        lab.Checks.Allow(503);
        lab.Checks.Allow(502, Checkout);
        var shoppers = target.Shoppers;
        var duration = o.DurationOr(TimeSpan.FromSeconds(60));
        var step = new Step(Workload.Funnel, 1, o.Rate ?? 25, duration, "gateway slow, then failing, then well");
        // A closed loop warms up more of the service in the same time than the open loop's steady trickle.
        await shoppers.MeasureAsync(step with { Shoppers = 16, Rate = null, Duration = o.Warmup }, ct, "warm-up");

        var timeline = new Timeline(TimeSpan.FromSeconds(1));
        target.Services.WatchServiceLog(line =>
        {
            foreach (var move in BreakerMoves)
            {
                if (line.Contains(move, StringComparison.Ordinal))
                {
                    timeline.Mark("breaker: " + move);
                }
            }
        });
        var funnel = shoppers.MeasureAsync(step, ct, timeline: timeline);
        // The bare endpoint beside it, at a trickle: a second where it is slow too is the machine's, not the service's.
        var yardstick = new Measurement { Timeline = timeline };
        var bare = LoadLoops.RunOpenAsync(yardstick, 50, duration, await shoppers.IterationAsync(new Step(Workload.Bare, 1, 50, duration), yardstick, ct), ct);
        var starts = new List<TimeSpan>();
        foreach (var (phase, share, latencyMs, outage) in Phases)
        {
            await target.Services.ControlGatewayAsync(latencyMs, outage, ct);
            starts.Add(timeline.Elapsed);
            timeline.Mark(Inv($"gateway {phase} (latency {latencyMs} ms{(outage ? ", every call 502" : "")})"));
            await Task.Delay(duration * share, TimeProvider.System, ct);
        }
        lab.Results.Add(new StepResult(step, await funnel, null));
        await bare;
        await shoppers.VerifyOrdersAsync(ct);
        lab.Sections.Add(Section(timeline, starts, lab.Checks));
    }

    private static string Section(Timeline timeline, List<TimeSpan> starts, Checks checks)
    {
        static bool IsCheckout(string endpoint) => endpoint == Checkout;
        static bool Other(string endpoint) => endpoint is not (Checkout or Measurement.BareEndpoint);
        static bool Bare(string endpoint) => endpoint == Measurement.BareEndpoint;
        string Phase(int i) => Phases[Math.Max(0, starts.FindLastIndex(s => s <= i * timeline.Slice))].Phase;
        string P99(int i, Func<string, bool> endpoint) => timeline.P99Ms(i, endpoint) is { } ms ? Ms(ms) : "–";
        // The p99 of the other requests over the whole seconds of phase `phase` (an index into Phases).
        double OtherP99(int phase) => timeline.P99Ms(Other, (int)Math.Ceiling(starts[phase] / timeline.Slice),
            (phase + 1 == starts.Count ? timeline.Slices : (int)(starts[phase + 1] / timeline.Slice)) - 1) ?? 0;

        var (failingAt, recoveredAt) = (starts[2], starts[3]);
        var opened = timeline.Events.FirstOrDefault(e => e.At >= failingAt && e.What.EndsWith("OnCircuitOpened", StringComparison.Ordinal));
        checks.Add(new("the circuit breaker opened while the gateway failed", opened.What is not null && opened.At < recoveredAt,
            opened.What is null ? "no OnCircuitOpened in the service's log" : Inv($"at {opened.At.TotalSeconds:0.0} s, {(opened.At - failingAt).TotalSeconds:0.0} s into the failure")));
        // Recovered for good after the last 502: from then on every checkout that ended, ended paid.
        var last502 = timeline.Seen(IsCheckout, s => s == 502)?.Last;
        var backAt = last502 is { } l && l > recoveredAt ? l : recoveredAt;
        var paidAfter = Enumerable.Range(0, timeline.Slices).Where(i => (i + 1) * timeline.Slice > backAt).Sum(i => timeline.Count(i, IsCheckout, s => s == 201));
        checks.Add(new("checkouts recovered by themselves", paidAfter > 0,
            Inv($"the last 502 {(backAt > recoveredAt ? $"at {backAt.TotalSeconds:0.0} s, {(backAt - recoveredAt).TotalSeconds:0.0} s after the gateway recovered" : "before the gateway recovered")}; {paidAfter:N0} checkouts paid after it")));
        var (well, slow, failing, recovered) = (OtherP99(0), OtherP99(1), OtherP99(2), OtherP99(3));
        var calm = Math.Max(well, recovered);
        // One bad second hides in a phase's p99: the worst second of the brownout is shown beside the bare endpoint's in it.
        var worst = Enumerable.Range(0, timeline.Slices).Where(i => i * timeline.Slice >= starts[1] && (i + 1) * timeline.Slice <= recoveredAt)
            .OrderByDescending(i => timeline.P99Ms(i, Other) ?? 0).First();
        checks.Add(new("requests other than the checkout kept their latency", Math.Max(slow, failing) <= (2 * calm) + 10,
            Inv($"their p99 {Ms(slow)} ms while the gateway was slow and {Ms(failing)} ms while it failed, against {Ms(well)} ms well and {Ms(recovered)} ms recovered (bound: twice the larger, +10 ms)")));

        return new StringBuilder("## Gateway brownout under the funnel").AppendLine().AppendLine()
            .AppendLine(Inv($"Shoppers arrive at a steady rate (open loop) and go through the whole funnel. The gateway simulator, driven through its `POST /_control`: ")
                + string.Join(", ", Phases.Select((p, i) => Inv($"{p.Phase} from {starts[i].TotalSeconds:0} s")))
                + ". Slow is 2 s added to every call (under the 8 s attempt timeout); failing is 502 to every create and confirm. "
                + "The breaker (Payments/GatewayResilience.cs) opens when half of the calls over 30 s failed, with at least 8 seen, for 15 s, then lets one probe through; "
                + "its opening is read from the service's log, its closing from the checkouts paid again.")
            .AppendLine()
            .AppendLine("| | |").AppendLine("|---|---|")
            .AppendLine($"| breaker opened | {(opened.What is null ? "never" : Inv($"{opened.At.TotalSeconds:0.0} s, {(opened.At - failingAt).TotalSeconds:0.0} s after the gateway began failing"))} |")
            .AppendLine(Inv($"| checkouts recovered (after the last 502) | {backAt.TotalSeconds:0.0} s, {(backAt - recoveredAt).TotalSeconds:0.0} s after the gateway did |"))
            .AppendLine(Inv($"| p99 of the other requests, by gateway phase | {Ms(well)} ms well, {Ms(slow)} ms slow, {Ms(failing)} ms failing, {Ms(recovered)} ms recovered |"))
            .AppendLine(Inv($"| their worst second in the brownout | {P99(worst, Other)} ms at {worst * timeline.Slice.TotalSeconds:0} s (bare: {P99(worst, Bare)} ms) |"))
            .AppendLine()
            .Append(timeline.Table(
                ("gateway", Phase),
                ("checkout 201", i => N(timeline.Count(i, IsCheckout, s => s == 201))),
                ("402", i => N(timeline.Count(i, IsCheckout, s => s == 402))),
                ("502", i => N(timeline.Count(i, IsCheckout, s => s == 502))),
                ("503", i => N(timeline.Count(i, IsCheckout, s => s == 503))),
                ("checkout p99 ms", i => P99(i, IsCheckout)),
                ("other requests", i => N(timeline.Count(i, Other, _ => true))),
                ("other p99 ms", i => P99(i, Other)),
                ("bare p99 ms", i => P99(i, Bare))))
            .ToString();
    }
}
