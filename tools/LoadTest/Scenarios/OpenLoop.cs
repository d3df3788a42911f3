using System.Text;
using static LoadTest.Report;

namespace LoadTest;

/// <summary>
/// --scenario open-loop (SPEC §3: at half of saturation, checkout p99 overhead under 10 ms, session
/// read under 2 ms): each endpoint's saturation found in a closed loop, then an open loop at half of
/// it, and the bare endpoint at the same rate; the overhead is the difference of their p99s, so the
/// machine's own tail (shared by both) is not counted against the service.
/// </summary>
internal sealed class OpenLoop(Options o) : IScenario
{
    private static readonly (Workload Workload, string Endpoint, double BarMs)[] Endpoints =
        [(Workload.Checkout, "POST checkout", 10), (Workload.SessionRead, "GET session", 2)];

    public string Name => "open-loop";
    public bool CompareToBare => true;
    public bool WriteReport => o.Report ?? true;

    public async Task RunAsync(Lab lab, CancellationToken ct)
    {
        await using var target = await lab.StartAsync(o, needsService: true, ct);
        // Six steps of 5 s, with their warm-ups and the checkout's carts, keep the run near a minute.
        var seconds = o.DurationOr(TimeSpan.FromSeconds(5));
        var connections = o.ShoppersOr(64);
        var rows = new List<string>();
        foreach (var (workload, endpoint, barMs) in Endpoints)
        {
            var closed = await lab.RunStepAsync(target, new Step(workload, connections, null, seconds), compareToBare: false, o.Warmup, ct);
            var saturation = closed.Service.PerSecond(closed.Service.Endpoints[endpoint]);
            var open = await lab.RunStepAsync(target, new Step(workload, connections, saturation / 2, seconds), compareToBare: true, o.Warmup, ct);
            var (service, bare) = (open.Service.Endpoints[endpoint], open.Bare!.Endpoints[Measurement.BareEndpoint]);
            var overhead = service.Ms(99) - bare.Ms(99);
            lab.Checks.Add(new($"{endpoint} answered every request of the open loop", service.Errors == 0, $"{service.Count:N0} requests, {service.Errors} errors"));
            rows.Add(Inv($"| {endpoint} | {N(saturation)} | {N(saturation / 2)} | {Ms(service.Ms(50))} | {Ms(service.Ms(90))} | {Ms(service.Ms(99))} | {Ms(service.Ms(99.9))} ")
                + Inv($"| {Ms(bare.Ms(50))} | {Ms(bare.Ms(90))} | {Ms(bare.Ms(99))} | {Ms(bare.Ms(99.9))} | **{Ms(overhead)}** | < {barMs} | {Mark(overhead < barMs)} |"));
        }
        lab.Sections.Add(new StringBuilder("## Open loop at half of saturation").AppendLine().AppendLine()
            .AppendLine(Inv($"Saturation: the closed loop's throughput at {connections} connections. Then a constant arrival rate of half of it for {seconds.TotalSeconds:0} s, ")
                + "each latency counted from the request's scheduled start (no coordinated omission), and `GET /bare` at the same rate. "
                + "Overhead p99 = the endpoint's p99 − bare's p99. Gateway simulator at 0 ms. The bars are reported, not part of the exit code "
                + "(latency on a shared 2-core machine moves between runs; correctness does not).")
            .AppendLine()
            .AppendLine("| endpoint | saturation req/s | open-loop rate | p50 ms | p90 ms | p99 ms | p99.9 ms | bare p50 | bare p90 | bare p99 | bare p99.9 | overhead p99 ms | bar | |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            .AppendJoin(Environment.NewLine, rows).ToString());
    }
}
