using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>
/// deploy/prometheus and deploy/alertmanager, checked by the tools that will load them: promtool
/// (the rules, the config, and alerts.test.yml, where each alert fires on synthetic series and
/// resolves) and amtool. .ci/run installs Debian's prometheus and prometheus-alertmanager for them.
/// </summary>
public sealed class PrometheusRulesTests
{
    [Fact]
    public async Task RecordingAndAlertingRules_PassPromtoolCheck() =>
        await Repository.AssertToolSucceedsAsync("promtool", "check", "rules", "deploy/prometheus/rules.yml", "deploy/prometheus/alerts.yml");

    [Fact]
    public async Task PrometheusConfig_PassesPromtoolCheck_WithItsRuleFiles() =>
        await Repository.AssertToolSucceedsAsync("promtool", "check", "config", "deploy/prometheus/prometheus.yml");

    [Fact]
    public async Task EachAlert_FiresOnItsSyntheticSeries_AndResolves() =>
        await Repository.AssertToolSucceedsAsync("promtool", "test", "rules", "deploy/prometheus/alerts.test.yml");

    [Fact]
    public async Task AlertmanagerConfig_PassesAmtoolCheck()
    {
        Assert.SkipWhen(Repository.FindTool("amtool") is null, "amtool is not installed (Debian package prometheus-alertmanager)");
        await Repository.AssertToolSucceedsAsync("amtool", "check-config", "deploy/alertmanager/alertmanager.yml");
    }

    [Fact]
    public async Task DashboardQueries_AreValidPromQL()
    {
        // promtool has no offline query check, but a rules file runs each expression through
        // Prometheus' own parser: one recording rule per panel query.
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf("deploy/grafana/checkout-guest-v2.json"), TestContext.Current.CancellationToken))!;
        var rules = new JsonArray();
        foreach (var panel in dashboard["panels"]!.AsArray())
        {
            foreach (var target in panel!["targets"]!.AsArray())
            {
                rules.Add(new JsonObject { ["record"] = $"panel_{panel["id"]}_{target!["refId"]}", ["expr"] = (string?)target["expr"] });
            }
        }
        var folder = Directory.CreateTempSubdirectory("dashboard-rules-");
        try
        {
            // JSON is YAML, which promtool reads.
            var file = Path.Combine(folder.FullName, "dashboard.rules.yml");
            var document = new JsonObject { ["groups"] = new JsonArray(new JsonObject { ["name"] = "dashboard", ["rules"] = rules }) };
            await File.WriteAllTextAsync(file, document.ToJsonString(), TestContext.Current.CancellationToken);
            await Repository.AssertToolSucceedsAsync("promtool", "check", "rules", file);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>The repository's files, and its command-line tools run from its root.</summary>
internal static class Repository
{
    /// <summary>The folder holding checkout-service.slnx, found upward from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "checkout-service.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("No checkout-service.slnx above " + AppContext.BaseDirectory);
    }

    public static string? FindTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs <paramref name="tool"/> in the repository's root and fails with its output unless it exits 0.</summary>
    public static async Task AssertToolSucceedsAsync(string tool, params string[] arguments)
    {
        var path = FindTool(tool)
            ?? throw new InvalidOperationException($"{tool} is not on PATH (.ci/run installs it: apt-get install prometheus prometheus-alertmanager)");
        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var cancellation = TestContext.Current.CancellationToken;
        // Both pipes are read while the tool runs, so a full one never blocks it.
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var errors = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        Assert.True(process.ExitCode == 0,
            $"{tool} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await errors}");
    }
}
