using System.Globalization;
using LoadTest;

// The repo's load tool: shoppers through the whole guest-checkout funnel, every throughput figure a
// ratio to a bare Kestrel endpoint measured in the same run (SPEC §3: absolute numbers vary 2x here).
// Exit code: 0 all checks held, 1 a correctness check failed, 2 the run could not be set up.
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + Options.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// Other work on the machine moves absolute numbers (ratios less): the report says how busy it was before.
var loadBefore = Report.LoadAverage();
var scenario = Scenarios.Of(options);
var lab = new Lab(options);
try
{
    await scenario.RunAsync(lab, stop.Token);
}
catch (SetupException e)
{
    await Console.Error.WriteLineAsync("load test not set up: " + e.Message);
    return 2;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("load test stopped before its end; everything it started is stopped");
    return 2;
}

var report = new Report(scenario, lab, options.CommandLine, loadBefore);
Console.WriteLine();
Console.WriteLine(report.Tables());
Console.WriteLine(report.ChecksList());
Console.WriteLine(lab.Logs);
if (scenario.WriteReport)
{
    var path = await report.WriteAsync(options.OutputDirectory ?? Path.Combine(Services.RepoRoot(), "docs", "performance"), stop.Token);
    Console.WriteLine($"report: {path}");
}
return lab.Checks.AllPassed ? 0 : 1;

namespace LoadTest
{
    internal enum Workload { Funnel, SessionRead, CartCreate, Checkout, AddressValidate, Bare }

    /// <summary>
    /// One measured step: a workload at a concurrency (closed loop) or a rate (open loop) for a duration;
    /// <paramref name="Where"/> tells apart steps a scenario runs under different conditions.
    /// </summary>
    internal sealed record Step(Workload Workload, int Shoppers, double? Rate, TimeSpan Duration, string? Where = null)
    {
        public string Label => (Rate is { } rate
            ? string.Create(CultureInfo.InvariantCulture, $"open loop, {rate:0.#} {(Workload == Workload.Funnel ? "funnels" : "requests")}/s")
            : $"{Shoppers} {(Workload == Workload.Funnel ? "shoppers" : "connections")}") + (Where is null ? "" : ", " + Where);
    }

    /// <summary>The plain runs, steps measured one after the other on one service; the other scenarios are their own classes.</summary>
    internal sealed record Plan(string Name, IReadOnlyList<Step> Steps, bool CompareToBare, bool WriteReport, TimeSpan Warmup) : IScenario
    {
        private static readonly int[] FunnelShoppers = [8, 32, 64];

        public static Plan Of(Options o)
        {
            var seconds = o.Duration;
            return o switch
            {
                { Scenario: "smoke" } => new Plan("smoke", [new(Workload.Funnel, 4, null, o.DurationOr(TimeSpan.FromSeconds(5)))],
                    CompareToBare: false, o.Report ?? false, TimeSpan.FromSeconds(1)),
                { Scenario: "funnel" } => new Plan("funnel", [.. FunnelShoppers.Select(n => new Step(Workload.Funnel, n, null, seconds))],
                    CompareToBare: true, o.Report ?? true, o.Warmup),
                { Case: { } micro, Rate: { } rate } => new Plan("open-loop-" + micro, [new(CaseWorkload(micro), o.Shoppers[0], rate, seconds)],
                    CompareToBare: micro != "bare", o.Report ?? true, o.Warmup),
                { Case: { } micro } => new Plan("case-" + micro, [.. o.Shoppers.Select(n => new Step(CaseWorkload(micro), n, null, seconds))],
                    CompareToBare: micro != "bare", o.Report ?? true, o.Warmup),
                { Rate: { } rate } => new Plan("open-loop-funnel", [new(Workload.Funnel, o.Shoppers[0], rate, seconds)],
                    CompareToBare: true, o.Report ?? true, o.Warmup),
                _ => new Plan("closed-loop", [.. o.Shoppers.Select(n => new Step(Workload.Funnel, n, null, seconds))],
                    CompareToBare: true, o.Report ?? true, o.Warmup),
            };
        }

        public async Task RunAsync(Lab lab, CancellationToken ct)
        {
            await using var target = await lab.StartAsync(lab.Options, needsService: Steps.Any(s => s.Workload != Workload.Bare), ct);
            foreach (var step in Steps)
            {
                await lab.RunStepAsync(target, step, CompareToBare, Warmup, ct);
            }
        }

        public static Workload CaseWorkload(string name) => name switch
        {
            "session-read" => Workload.SessionRead,
            "cart-create" => Workload.CartCreate,
            "checkout" => Workload.Checkout,
            "address-validate" => Workload.AddressValidate,
            _ => Workload.Bare,
        };
    }

    internal sealed record Options
    {
        public const string Usage = """
            usage: dotnet run -c Release --project tools/LoadTest -- [options]
              --scenario NAME           smoke: 4 shoppers for 5 s, checks only; funnel: 8/32/64 shoppers, 10 s each, report
                                        sessions-20k: --sessions live sessions opened (--shoppers at a time, 64), read back, a section saved on each, checked
                                        open-loop: checkout and session read saturated (64 connections), then at half of it beside bare; 5 s steps
                                        redis-failover: a 3+3 Redis Cluster of its own, one primary SIGKILLed under 16 shoppers; 25 s
                                        gateway-brownout: the gateway slow (2 s), then failing, then well, under 25 funnels/s (--rate); 60 s
                                        eu-west-1: Redis 35 ms away each way (a delay proxy), beside Redis next door; 8 connections, 6 s steps
              --shoppers N[,N…]         closed loop: N shoppers running the funnel again and again (default 64)
              --rate R                  open loop: R funnels/s (with --case, requests/s) on a fixed schedule, latency from each intended start
              --case NAME               one endpoint hammered: session-read, cart-create, checkout, address-validate or bare
              --sessions N              sessions-20k: how many (default 20000)
              --duration S              seconds per step, or a scenario's whole run (default 10)   --warmup S   seconds of warm-up (default 3)
              --url URL                 an already running service instead of starting one
              --gateway-url URL         that service's gateway simulator, for the ledger check
              --redis URL               REDIS_URL for the started service  --database URL   DATABASE_URL for it
              --gateway-latency-ms N    SIMULATOR_LATENCY_MS (default 0)   --allow-503  503s are retried, not failures
              --report / --no-report    write docs/performance/<scenario>-<time>.md or not
              --output DIR              where the report goes              --no-build   use the last Release build
            """;

        private static readonly string[] Cases = ["session-read", "cart-create", "checkout", "address-validate", "bare"];
        private static readonly string[] Scenarios = ["smoke", "funnel", "sessions-20k", "open-loop", "redis-failover", "gateway-brownout", "eu-west-1"];

        public string? Scenario { get; init; }
        public IReadOnlyList<int> Shoppers { get; init; } = [64];
        public bool ShoppersSet { get; init; }
        public int Sessions { get; init; } = 20_000;
        public double? Rate { get; init; }
        public string? Case { get; init; }
        public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
        public bool DurationSet { get; init; }
        public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
        public Uri? Url { get; init; }
        public Uri? GatewayUrl { get; init; }
        public string? Redis { get; init; }
        public string? Database { get; init; }
        public int GatewayLatencyMs { get; init; }
        public bool Allow503 { get; init; }
        public bool? Report { get; init; }
        public string? OutputDirectory { get; init; }
        public bool NoBuild { get; init; }
        public bool Help { get; init; }
        public string CommandLine { get; init; } = "";

        /// <summary>Settings a scenario adds to the started service's environment (never from the command line).</summary>
        public IReadOnlyDictionary<string, string?> ServiceEnvironment { get; init; } = new Dictionary<string, string?>();

        public TimeSpan DurationOr(TimeSpan scenarioDefault) => DurationSet ? Duration : scenarioDefault;

        public int ShoppersOr(int scenarioDefault) => ShoppersSet ? Shoppers[0] : scenarioDefault;

        public static Options Parse(string[] args)
        {
            var o = new Options { CommandLine = string.Join(' ', ["dotnet run -c Release --project tools/LoadTest --", .. args]) };
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
                o = args[i] switch
                {
                    "--scenario" => o with { Scenario = OneOf(Value(), Scenarios, "--scenario") },
                    "--shoppers" => o with { Shoppers = [.. Value().Split(',').Select(n => Positive(n, "--shoppers"))], ShoppersSet = true },
                    "--sessions" => o with { Sessions = Positive(Value(), "--sessions") },
                    "--rate" => o with { Rate = Positive(Value(), "--rate", allowZero: false) },
                    "--case" => o with { Case = OneOf(Value(), Cases, "--case") },
                    "--duration" => o with { Duration = TimeSpan.FromSeconds(Positive(Value(), "--duration", allowZero: false)), DurationSet = true },
                    "--warmup" => o with { Warmup = TimeSpan.FromSeconds(Positive(Value(), "--warmup", allowZero: true)) },
                    "--url" => o with { Url = new Uri(Value()) },
                    "--gateway-url" => o with { GatewayUrl = new Uri(Value()) },
                    "--redis" => o with { Redis = Value() },
                    "--database" => o with { Database = Value() },
                    "--gateway-latency-ms" => o with { GatewayLatencyMs = (int)Positive(Value(), "--gateway-latency-ms", allowZero: true) },
                    "--allow-503" => o with { Allow503 = true },
                    "--report" => o with { Report = true },
                    "--no-report" => o with { Report = false },
                    "--output" => o with { OutputDirectory = Path.GetFullPath(Value()) },
                    "--no-build" => o with { NoBuild = true },
                    "--help" or "-h" => o with { Help = true },
                    var unknown => throw new ArgumentException($"unknown option {unknown}"),
                };
            }
            return o;
        }

        private static string OneOf(string value, string[] allowed, string option) =>
            allowed.Contains(value) ? value : throw new ArgumentException($"{option} is one of {string.Join(", ", allowed)}");

        private static int Positive(string value, string option) => (int)Positive(value, option, allowZero: false);

        private static double Positive(string value, string option, bool allowZero) =>
            double.TryParse(value, CultureInfo.InvariantCulture, out var n) && (n > 0 || (allowZero && n == 0))
                ? n
                : throw new ArgumentException($"{option} must be a {(allowZero ? "non-negative" : "positive")} number");
    }
}
