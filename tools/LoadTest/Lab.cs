namespace LoadTest;

/// <summary>What one invocation runs: the plain steps of smoke, funnel and --case, or one of the scenarios that set up more.</summary>
internal interface IScenario
{
    string Name { get; }

    /// <summary>Whether the report's throughput figures are ratios to the bare endpoint.</summary>
    bool CompareToBare { get; }

    bool WriteReport { get; }

    /// <summary>Starts what it needs through <paramref name="lab"/> (stopping it again before it returns), and leaves its results there.</summary>
    Task RunAsync(Lab lab, CancellationToken ct);
}

internal static class Scenarios
{
    public static IScenario Of(Options o) => o.Scenario switch
    {
        "sessions-20k" => new ManySessions(o),
        "open-loop" => new OpenLoop(o),
        "redis-failover" => new RedisFailover(o),
        "gateway-brownout" => new GatewayBrownout(o),
        "eu-west-1" => new FarRegion(o),
        _ => Plan.Of(o),
    };
}

/// <summary>
/// One invocation's shared state: the checks every request feeds, the measured steps and the
/// scenario's own report sections, and a description of what was started.
/// </summary>
internal sealed class Lab(Options options)
{
    private readonly List<string> _setup = [];
    private readonly List<string> _logs = [];

    public Options Options => options;
    public Checks Checks { get; } = new(options.Allow503, ledgerAvailable: options.Url is null || options.GatewayUrl is not null);
    public List<StepResult> Results { get; } = [];

    /// <summary>Markdown sections of the scenario's own, printed and reported after the step tables.</summary>
    public List<string> Sections { get; } = [];

    public string Setup => _setup.Count == 0 ? "bare endpoint only" : string.Join("; ", _setup.Distinct());
    public string Logs => string.Join(Environment.NewLine, _logs);

    /// <summary>Starts the service and the gateway simulator (unless --url) and connects shoppers to them.</summary>
    public async Task<Target> StartAsync(Options o, bool needsService, CancellationToken ct)
    {
        var services = await Services.StartAsync(o, needsService, ct);
        try
        {
            var shoppers = await Shoppers.ConnectAsync(services, Checks, ct);
            _setup.Add(services.Description);
            return new Target(services, shoppers, _logs);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException)
        {
            await services.DisposeAsync();
            throw new SetupException($"the catalogue at {services.Service} did not answer: {e.Message}");
        }
    }

    /// <summary>
    /// One measured step, after a warm-up the first time its workload runs, beside the bare endpoint when
    /// asked (at the same rate for a single endpoint in an open loop, so their latencies compare like with like).
    /// </summary>
    public async Task<StepResult> RunStepAsync(Target target, Step step, bool compareToBare, TimeSpan warmup, CancellationToken ct)
    {
        var shoppers = target.Shoppers;
        // Tiered JIT, connection pools and the service's caches settle before anything is recorded.
        if (warmup > TimeSpan.Zero)
        {
            if (compareToBare && target.WarmedUp.Add(Workload.Bare))
            {
                await shoppers.MeasureAsync(step with { Workload = Workload.Bare, Rate = null, Duration = warmup }, ct, "warm-up");
            }
            if (target.WarmedUp.Add(step.Workload))
            {
                await shoppers.MeasureAsync(step with { Duration = warmup }, ct, "warm-up");
            }
        }
        // A funnel's rate counts funnels, not requests, so its yardstick stays the bare endpoint's closed-loop throughput.
        var bare = compareToBare && step.Workload != Workload.Bare
            ? await shoppers.MeasureAsync(step with { Workload = Workload.Bare, Rate = step.Workload == Workload.Funnel ? null : step.Rate }, ct)
            : null;
        var measured = await shoppers.MeasureAsync(step, ct);
        // Checked between steps, never while measuring: the simulator's ledger look-up scans every intent.
        await shoppers.VerifyOrdersAsync(ct);
        var result = new StepResult(step, measured, bare);
        Results.Add(result);
        return result;
    }
}

/// <summary>A started service with its shoppers; stopping it keeps its log summary for the end of the run.</summary>
internal sealed class Target(Services services, Shoppers shoppers, List<string> logs) : IAsyncDisposable
{
    public Services Services => services;
    public Shoppers Shoppers => shoppers;
    public HashSet<Workload> WarmedUp { get; } = [];

    public async ValueTask DisposeAsync()
    {
        if (services.LogSummary() is { Length: > 0 } summary)
        {
            logs.Add(summary);
        }
        shoppers.Dispose();
        await services.DisposeAsync();
    }
}
