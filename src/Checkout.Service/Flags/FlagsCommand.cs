using System.Globalization;
using System.Text.Json;

namespace CheckoutService.Flags;

/// <summary>
/// The operator's commands, run against the same settings and database as the service:
/// <code>
/// flags show [guest_checkout_v2]
/// flags set guest_checkout_v2 --percent 25 [--regions us-east-1,eu-west-1] [--by name]
/// flags kill [guest_checkout_v2] [--by name]
/// flags gate [--prometheus URL] [--window 1h]
/// </code>
/// Every change is stored with who made it and when; every replica applies it within a second.
/// </summary>
public static class FlagsCommand
{
    /// <summary>The log's conversion gate: guest v2 within 2 points of the existing flow.</summary>
    public const double GateTolerance = 0.02;

    public const int Passed = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NoData = 3;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        var options = Options(args);
        var store = services.GetRequiredService<IFlagStore>();
        var flag = services.GetRequiredService<GuestCheckoutFlag>();
        var time = services.GetRequiredService<TimeProvider>();
        var who = options.GetValueOrDefault("--by") ?? Environment.GetEnvironmentVariable("USER") ?? Environment.UserName;
        switch (args)
        {
            case ["flags", "show", ..] when Named(args, 2):
                await flag.RefreshAsync(cancellationToken);
                await output.WriteLineAsync(Describe(flag.Current));
                foreach (var change in await store.HistoryAsync(FlagState.GuestCheckoutV2, 10, cancellationToken))
                {
                    await output.WriteLineAsync($"  {change.ChangedAt:u} {change.ChangedBy}: {change.Change}");
                }
                return Passed;
            case ["flags", "set", FlagState.GuestCheckoutV2, ..]:
                if (!int.TryParse(options.GetValueOrDefault("--percent"), NumberStyles.None, CultureInfo.InvariantCulture, out var percent)
                    || !FlagState.RampSteps.Contains(percent))
                {
                    await output.WriteLineAsync($"--percent must be one of the ramp's steps: {string.Join(", ", FlagState.RampSteps)}");
                    return Usage;
                }
                return await ChangeAsync(store, flag, time, who, output, current => current with
                {
                    Enabled = true,
                    Percent = percent,
                    Regions = options.TryGetValue("--regions", out var regions) ? FlagState.ParseRegions(regions) : current.Regions,
                }, cancellationToken);
            case ["flags", "kill", ..] when Named(args, 2):
                return await ChangeAsync(store, flag, time, who, output, current => current with { Enabled = false }, cancellationToken);
            case ["flags", "gate", ..]:
                var configuration = services.GetRequiredService<IConfiguration>();
                var prometheus = options.GetValueOrDefault("--prometheus") ?? configuration["PROMETHEUS_URL"] ?? "http://127.0.0.1:9090";
                return await ConversionGate.RunAsync(new Uri(prometheus), options.GetValueOrDefault("--window") ?? "1h", output, cancellationToken);
            default:
                await output.WriteLineAsync("usage: flags show | flags set guest_checkout_v2 --percent N [--regions a,b] | flags kill | flags gate [--prometheus URL] [--window 1h]");
                return Usage;
        }
    }

    private static async Task<int> ChangeAsync(
        IFlagStore store, GuestCheckoutFlag flag, TimeProvider time, string who, TextWriter output, Func<FlagState, FlagState> change, CancellationToken cancellationToken)
    {
        var current = await store.GetAsync(FlagState.GuestCheckoutV2, cancellationToken) ?? flag.Starting;
        var next = change(current) with { Version = current.Version + 1, UpdatedAt = time.GetUtcNow(), UpdatedBy = who };
        var description = $"{Describe(current)} -> {Describe(next)}";
        await store.SaveAsync(next, description, cancellationToken);
        await output.WriteLineAsync($"{FlagState.GuestCheckoutV2} changed by {who}: {description}");
        return Passed;
    }

    private static string Describe(FlagState state) =>
        state.Enabled ? $"on for {state.Percent}% in {string.Join(',', state.Regions)} (version {state.Version})" : $"killed (version {state.Version})";

    /// <summary>Only the one flag there is, or none named.</summary>
    private static bool Named(string[] args, int at) => args.Length <= at || args[at].StartsWith("--", StringComparison.Ordinal) || args[at] == FlagState.GuestCheckoutV2;

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                options[args[i]] = args[i + 1];
            }
        }
        return options;
    }
}

/// <summary>The log's conversion gate, asked of Prometheus: is guest v2's conversion within 2 points of the legacy flow's?</summary>
internal static class ConversionGate
{
    public static string ConversionQuery(string flow, string window) =>
        $"sum(rate(checkout_completed{{flow=\"{flow}\"}}[{window}])) / sum(rate(checkout_started{{flow=\"{flow}\"}}[{window}]))";

    public static async Task<int> RunAsync(Uri prometheus, string window, TextWriter output, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = prometheus, Timeout = TimeSpan.FromSeconds(30) };
        var guestV2 = await QueryAsync(http, ConversionQuery("guest_v2", window), cancellationToken);
        var legacy = await QueryAsync(http, ConversionQuery("legacy", window), cancellationToken);
        await output.WriteLineAsync($"conversion over {window}: guest_v2 {Format(guestV2)}, legacy {Format(legacy)} (gate: within {FlagsCommand.GateTolerance * 100:F0} points)");
        if (guestV2 is not { } v2 || legacy is not { } old || double.IsNaN(v2) || double.IsNaN(old))
        {
            await output.WriteLineAsync("verdict: NO DATA — both flows need checkouts in the window");
            return FlagsCommand.NoData;
        }
        var delta = v2 - old;
        var passed = Math.Abs(delta) <= FlagsCommand.GateTolerance;
        await output.WriteLineAsync($"verdict: {(passed ? "PASS" : "FAIL")} (difference {(delta * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture)} points)");
        return passed ? FlagsCommand.Passed : FlagsCommand.Failed;
    }

    private static string Format(double? value) =>
        value is { } v && !double.IsNaN(v) ? (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "no data";

    /// <summary>The query's single value, or null when it has no series.</summary>
    private static async Task<double?> QueryAsync(HttpClient http, string query, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var result = body.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
