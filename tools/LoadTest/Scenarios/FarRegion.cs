using System.Net;
using System.Text;
using CheckoutService.IntegrationTests.Infrastructure;
using static LoadTest.Report;

namespace LoadTest;

/// <summary>
/// --scenario eu-west-1: a replica whose Redis is 35 ms away each way (a delay proxy in front of a
/// redis-server of the scenario's own), beside the same service with Redis next door. What the far
/// one adds to a request's latency, divided by the 70 ms of a round trip, is how many round trips
/// the request makes to Redis one after the other.
/// </summary>
internal sealed class FarRegion(Options o) : IScenario
{
    private static readonly TimeSpan OneWay = TimeSpan.FromMilliseconds(35);
    private static readonly (Workload Workload, string Endpoint)[] Endpoints = [(Workload.SessionRead, "GET session"), (Workload.Checkout, "POST checkout")];

    public string Name => "eu-west-1";
    public bool CompareToBare => false;
    public bool WriteReport => o.Report ?? true;

    public async Task RunAsync(Lab lab, CancellationToken ct)
    {
        await using var redis = await RedisServers.StandaloneAsync(ct);
        // The proxy holds back what Redis sends by the whole round trip (both ways' 35 ms): the same cost per
        // request and answer, with commands sent at once as StackExchange.Redis pipelines them.
        await using var proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, redis.Nodes[0].Port), 2 * OneWay);
        var seconds = o.DurationOr(TimeSpan.FromSeconds(6));
        var connections = o.ShoppersOr(8);
        var measured = new Dictionary<(string Where, string Endpoint), EndpointStats>();
        foreach (var (where, url) in new[] { ("Redis next door", redis.Url), ("Redis 35 ms away", $"127.0.0.1:{proxy.EndPoint.Port}") })
        {
            // Built once, for the first service; the second runs the same build.
            await using var target = await lab.StartAsync(o with { Redis = url, NoBuild = o.NoBuild || measured.Count > 0 }, needsService: true, ct);
            foreach (var (workload, endpoint) in Endpoints)
            {
                var result = await lab.RunStepAsync(target, new Step(workload, connections, null, seconds, where), compareToBare: false, o.Warmup, ct);
                measured[(where, endpoint)] = result.Service.Endpoints[endpoint];
                lab.Checks.Add(new($"{endpoint} answered every request, {where}", result.Service.Errors == 0, $"{result.Service.Requests:N0} requests, {result.Service.Errors} errors"));
            }
        }

        var text = new StringBuilder("## eu-west-1: Redis 35 ms away each way").AppendLine().AppendLine()
            .AppendLine(Inv($"The same service twice on a redis-server of this run: first next door, then through a TCP proxy that adds {OneWay.TotalMilliseconds:0} ms each way ")
                + Inv($"({2 * OneWay.TotalMilliseconds:0} ms per round trip). {connections} connections in a closed loop, {seconds.TotalSeconds:0} s per step; SQLite and the gateway simulator (0 ms) stay local, ")
                + "so the added latency is Redis round trips made one after another.")
            .AppendLine()
            .AppendLine("| endpoint | p50 ms, next door | p99 ms, next door | p50 ms, 35 ms away | p99 ms, 35 ms away | p50 added | round trips (p50 added / 70 ms) | p50 / 70 ms |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (_, endpoint) in Endpoints)
        {
            var (near, far) = (measured[("Redis next door", endpoint)], measured[("Redis 35 ms away", endpoint)]);
            var roundTrip = 2 * OneWay.TotalMilliseconds;
            var added = far.Ms(50) - near.Ms(50);
            text.AppendLine(Inv($"| {endpoint} | {Ms(near.Ms(50))} | {Ms(near.Ms(99))} | {Ms(far.Ms(50))} | {Ms(far.Ms(99))} | {Ms(added)} | {added / roundTrip:0.0} | {far.Ms(50) / roundTrip:0.0} |"));
        }
        lab.Sections.Add(text.ToString());
    }
}
