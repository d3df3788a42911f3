using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using static LoadTest.Report;

namespace LoadTest;

/// <summary>
/// --scenario redis-failover: the service on a 3+3 Redis Cluster of the scenario's own, shoppers through
/// the funnel, and a few seconds in one primary is SIGKILLed. Its replica takes over 3-4 s later; until
/// then what needs that shard may answer 503 with Retry-After (retried as the page does), and what
/// needs only the healthy shards must go on being served. A timeline shows each second; at the end no
/// cart is charged twice, every order is found, and every session opened is still there.
/// </summary>
internal sealed class RedisFailover(Options o) : IScenario
{
    private const string HealthyRead = "GET session, healthy shards";
    private const string Probe = "GET session, killed shard";
    private static readonly TimeSpan KillAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxUnavailable = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(50);

    public string Name => "redis-failover";
    public bool CompareToBare => false;
    public bool WriteReport => o.Report ?? true;

    public async Task RunAsync(Lab lab, CancellationToken ct)
    {
        Console.WriteLine("starting a 3-primary, 3-replica Redis Cluster…");
        await using var redis = await RedisServers.ClusterAsync(ct);
        await using var target = await lab.StartAsync(o with { Redis = redis.Url }, needsService: true, ct);
        lab.Checks.Allow(503);
        var shards = await redis.ShardsAsync(redis.Nodes[0], ct);
        // No shard is special (the session expiry index is spread over all of them): the one serving slot 0 goes.
        var victim = shards.Single(s => s.Serves(0));
        var witness = shards.First(s => s != victim).Primary;
        var shoppers = target.Shoppers;
        shoppers.KeepOpenedSessions();

        // A session read needs the session's key and the reader's rate-limit counter. Both on the other shards,
        // it needs only healthy ones; the probe's session on the killed shard (its counter not) times the shard's outage.
        var healthy = new List<OpenedSession>();
        OpenedSession? probed = null;
        while (healthy.Count < 64 || probed is null)
        {
            if (await shoppers.OpenSessionAsync(Measurement.Discarded) is { } session && !ReadCounterOn(victim, session.Visitor))
            {
                if (!victim.Serves(RedisServers.KeySlot(session.Session.SessionId)))
                {
                    healthy.Add(session);
                }
                else
                {
                    probed ??= session;
                }
            }
        }

        var duration = o.DurationOr(TimeSpan.FromSeconds(25));
        var step = new Step(Workload.Funnel, o.ShoppersOr(16), null, duration, $"primary killed at {KillAfter.TotalSeconds:0} s");
        await shoppers.MeasureAsync(step with { Duration = o.Warmup }, ct, "warm-up");
        var timeline = new Timeline(TimeSpan.FromSeconds(1));
        var readers = new Measurement { Timeline = timeline };
        var probe = new Measurement { Timeline = timeline };
        var funnel = shoppers.MeasureAsync(step, ct, timeline: timeline);
        var reading = LoadLoops.RunClosedAsync(readers, 4, duration, async start =>
        {
            await shoppers.ReadBackAsync(readers, healthy[RandomNumberGenerator.GetInt32(healthy.Count)], start, endpoint: HealthyRead);
            return true;
        }, ct);
        var probing = LoadLoops.RunClosedAsync(probe, 1, duration, async start =>
        {
            await shoppers.ReadBackAsync(probe, probed, start, endpoint: Probe, retry503: false);
            await Task.Delay(ProbeInterval, TimeProvider.System, ct);
            return true;
        }, ct);
        var promotedAt = await KillAndWatchAsync(redis, victim, witness, timeline, ct);
        lab.Results.Add(new StepResult(step, await funnel, null));
        await reading;
        await probing;
        lab.Results.Add(new StepResult(step with { Shoppers = 4, Where = "readers of sessions on the healthy shards" }, readers, null));

        await shoppers.VerifyOrdersAsync(ct);
        var opened = shoppers.OpenedSessions;
        Console.WriteLine($"reading back the {opened.Count:N0} sessions the run opened…");
        await Parallel.ForEachAsync(opened, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
            async (session, _) => await shoppers.ReadBackAsync(Measurement.Discarded, session, Stopwatch.GetTimestamp()));

        lab.Sections.Add(Section(timeline, victim, promotedAt, duration, opened.Count, lab.Checks));
    }

    /// <summary>
    /// Whether the session-read counter of the visitor's address, for this minute or the next, lives on the
    /// shard: the key as RateLimits/SharedRateLimiter.cs and RedisRateLimitCounters name it, one per minute window.
    /// </summary>
    private static bool ReadCounterOn(ClusterShard shard, long visitor)
    {
        var window = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 60_000;
        return new[] { window, window + 1 }.Any(w => shard.Serves(RedisServers.KeySlot($"rl:session-read:{Shoppers.ClientIp(visitor)}:{w}")));
    }

    /// <summary>
    /// Kills the primary at <see cref="KillAfter"/>, then asks a healthy primary every 100 ms until another
    /// node serves the slots; returns when that was on the timeline.
    /// </summary>
    private static async Task<TimeSpan?> KillAndWatchAsync(RedisServers redis, ClusterShard victim, RedisNode witness, Timeline timeline, CancellationToken ct)
    {
        await Task.Delay(KillAfter, TimeProvider.System, ct);
        victim.Primary.Process.Kill();
        var killed = timeline.Elapsed;
        timeline.Mark($"primary :{victim.Primary.Port} SIGKILLed");
        while (timeline.Elapsed - killed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, ct);
            if ((await redis.ShardsAsync(witness, ct)).FirstOrDefault(s => s.Serves(victim.Slots[0].From) && s.Primary != victim.Primary) is { } taken)
            {
                var at = timeline.Elapsed;
                timeline.Mark(Inv($"replica :{taken.Primary.Port} promoted, {(at - killed).TotalSeconds:0.0} s after the kill"));
                return at;
            }
        }
        timeline.Mark("no replica took over within 20 s");
        return null;
    }

    private static string Section(Timeline timeline, ClusterShard victim, TimeSpan? promotedAt, TimeSpan duration, int sessions, Checks checks)
    {
        static bool Funnel(string endpoint) => endpoint is not (HealthyRead or Probe);
        static bool Healthy(string endpoint) => endpoint == HealthyRead;
        static bool Probed(string endpoint) => endpoint == Probe;
        static bool Ok(int status) => status is >= 200 and < 300;
        static bool Error(int status) => !Ok(status) && status != 503;
        string P99(int i, Func<string, bool> endpoint) => timeline.P99Ms(i, endpoint) is { } ms ? Ms(ms) : "–";
        static string Span((TimeSpan First, TimeSpan Last)? span) => span is { } s
            ? Inv($"{(s.Last - s.First).TotalSeconds:0.0} s (from {s.First.TotalSeconds:0.0} s to {s.Last.TotalSeconds:0.0} s)")
            : "0 s";
        var measured = Enumerable.Range(0, (int)(duration / timeline.Slice)).ToList();
        var killedAt = KillAfter.TotalSeconds;

        var shoppers503 = timeline.Seen(Funnel, s => s == 503);
        var unavailable = shoppers503 is { } u ? u.Last - u.First : TimeSpan.Zero;
        checks.Add(new("shoppers saw 503s, each with Retry-After, for under 5 s", unavailable < MaxUnavailable, "503s for " + Span(shoppers503)));
        var healthyFailures = measured.Sum(i => timeline.Count(i, Healthy, s => !Ok(s)));
        var idle = measured.Where(i => timeline.Count(i, Healthy, Ok) == 0).ToList();
        checks.Add(new("requests that need only healthy shards were served in every second", healthyFailures == 0 && idle.Count == 0,
            $"{measured.Sum(i => timeline.Count(i, Healthy, Ok)):N0} reads of sessions on the healthy shards answered, {healthyFailures} did not"
                + (idle.Count == 0 ? "" : "; none answered in second(s) " + string.Join(", ", idle))));
        var probeDown = timeline.Seen(Probed, s => !Ok(s));

        return new StringBuilder("## Redis primary killed under the funnel").AppendLine().AppendLine()
            .AppendLine("A 3-primary, 3-replica Redis Cluster of this run's own redis-server processes, `cluster-node-timeout 2000` and "
                + "`cluster-require-full-coverage no`, so that the healthy shards keep serving while one shard has no primary. "
                + Inv($"At {killedAt:0} s the primary :{victim.Primary.Port} (slots {string.Join(", ", victim.Slots.Select(r => $"{r.From}-{r.To}"))}) got SIGKILL; ")
                + (promotedAt is { } p ? Inv($"its replica :{victim.Replica?.Port} served those slots {p.TotalSeconds - killedAt:0.0} s later (by `CLUSTER NODES`, polled every 100 ms). ") : "no replica took over. ")
                + "Shoppers retry a 503 after its Retry-After, as the page does. Beside them, four clients read sessions whose keys and whose own rate-limit "
                + Inv($"counters are on the healthy shards, and a probe reads a session on the killed shard every {ProbeInterval.TotalMilliseconds:0} ms without retrying. ")
                + Inv($"At the end all {sessions:N0} sessions the run opened were read back by their tokens (the session check below)."))
            .AppendLine()
            .AppendLine("| | |").AppendLine("|---|---|")
            .AppendLine(Inv($"| primary killed | {killedAt:0.0} s |"))
            .AppendLine($"| replica promoted | {(promotedAt is { } at ? Inv($"{at.TotalSeconds:0.0} s") : "never")} |")
            .AppendLine($"| the probe's reads failed (killed shard, no retry) | {Span(probeDown)} |")
            .AppendLine($"| **shoppers saw 503s** | **{Span(shoppers503)}** |")
            .AppendLine($"| reads needing only healthy shards that failed | {healthyFailures} |")
            .AppendLine()
            .Append(timeline.Table(
                ("funnel 2xx", i => N(timeline.Count(i, Funnel, Ok))),
                ("funnel 503", i => N(timeline.Count(i, Funnel, s => s == 503))),
                ("funnel errors", i => N(timeline.Count(i, Funnel, Error))),
                ("funnel p99 ms", i => P99(i, Funnel)),
                ("healthy-shard reads", i => N(timeline.Count(i, Healthy, Ok))),
                ("their 503/errors", i => N(timeline.Count(i, Healthy, s => !Ok(s)))),
                ("their p99 ms", i => P99(i, Healthy)),
                ("probe ok/failed", i => $"{timeline.Count(i, Probed, Ok)}/{timeline.Count(i, Probed, s => !Ok(s))}")))
            .ToString();
    }
}
