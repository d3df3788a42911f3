using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheckoutService.Flags;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>
/// The dashboard as operators will use it: Debian's Prometheus scrapes the service (every second
/// here), evaluates deploy/prometheus/rules.yml, and every query of deploy/grafana's dashboard
/// (the log's queries, as written where they are valid PromQL) returns a series. The gate command
/// reads the same Prometheus.
/// </summary>
public sealed class PrometheusDashboardTests(RedisServers redis)
{
    [Fact]
    public async Task EveryDashboardQuery_ReturnsASeries_FromARealPrometheus()
    {
        var cancel = TestContext.Current.CancellationToken;
        var prometheusBinary = Repository.FindTool("prometheus")
            ?? throw new InvalidOperationException("prometheus is not on PATH (.ci/run installs it: apt-get install prometheus)");
        await using var app = new CheckoutApp();
        app.Settings["METRICS_URL"] = "http://127.0.0.1:0";
        app.Settings["REDIS_URL"] = (await redis.StartStandaloneAsync()).Url;
        using var shopper = app.Shopper();
        var metricsAddress = app.Services.GetRequiredService<MetricsEndpoint>().Address!;

        var folder = Directory.CreateTempSubdirectory("checkout-prometheus-").FullName;
        // The deployed rules, evaluated every second instead of every 30 s, so the test need not wait for them.
        var rules = (await File.ReadAllTextAsync(Repository.PathOf("deploy/prometheus/rules.yml"), cancel))
            .Replace("interval: 30s", "interval: 1s", StringComparison.Ordinal).Replace("interval: 1m", "interval: 1s", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(folder, "rules.yml"), rules, cancel);
        await File.WriteAllTextAsync(Path.Combine(folder, "prometheus.yml"), $"""
            global: {"{"} scrape_interval: 1s, evaluation_interval: 1s {"}"}
            rule_files: [rules.yml]
            scrape_configs:
              - job_name: checkout-service
                static_configs: [{"{"} targets: ["{metricsAddress.Authority}"] {"}"}]
            """, cancel);
        var prometheusAddress = new Uri($"http://127.0.0.1:{Ports.Free()}");
        using var prometheus = Process.Start(new ProcessStartInfo(prometheusBinary,
            [$"--config.file={Path.Combine(folder, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
             $"--web.listen-address={prometheusAddress.Authority}", "--log.level=warn"])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        prometheus.OutputDataReceived += (_, _) => { };
        prometheus.ErrorDataReceived += (_, _) => { };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = prometheusAddress };
            Assert.True(await Eventually.TrueAsync(async () => await QueryAsync(http, "up{job=\"checkout-service\"} == 1") is { Count: > 0 }, TimeSpan.FromSeconds(60)),
                "Prometheus never scraped the service");

            // Shoppers: orders, a decline, a gateway outage, flag reads, sessions in Redis.
            using var visitor = app.CreateClient();
            for (var i = 0; i < 6; i++)
            {
                var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1 + i));
                var (_, token) = await shopper.StartSessionAsync(cartId);
                var card = i switch { 4 => "pm_stripe_1a2b_declined", 5 => "pm_stripe_1a2b_down", _ => "pm_stripe_4f9c2a1b" };
                await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, card), token);
                await visitor.GetAsync("/api/v2/flags/guest_checkout_v2", cancel);
            }

            var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf("deploy/grafana/checkout-guest-v2.json"), cancel))!;
            var queries = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]?.AsArray() ?? []).Select(t => (string)t!["expr"]!).ToList();
            Assert.NotEmpty(queries);
            var answers = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
            Assert.True(await Eventually.TrueAsync(async () =>
            {
                foreach (var query in queries.Where(q => !answers.ContainsKey(q)))
                {
                    if (await QueryAsync(http, query) is { Count: > 0 } series)
                    {
                        answers[query] = series;
                    }
                }
                return answers.Count == queries.Count;
            }, TimeSpan.FromSeconds(60)), "no series for: " + string.Join(" | ", queries.Where(q => !answers.ContainsKey(q))));

            // What the panels show once the traffic is in: the values the closing note quotes.
            await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System, cancel);
            foreach (var query in queries)
            {
                answers[query] = await QueryAsync(http, query) ?? answers[query];
            }
            foreach (var (query, series) in answers)
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"{query.ReplaceLineEndings(" ")}  =>  " +
                    string.Join(", ", series.Select(s => $"{Labels(s!["metric"]!)}{(string?)s!["value"]![1]}")));
            }

            using var gate = new StringWriter();
            var verdict = await FlagsCommand.RunAsync(app.Services, ["flags", "gate", "--prometheus", prometheusAddress.ToString(), "--window", "5m"], gate, cancel);
            TestContext.Current.TestOutputHelper?.WriteLine("flags gate: " + gate);
            Assert.Contains("conversion over 5m: guest_v2 66.7%", gate.ToString(), StringComparison.Ordinal);
            Assert.Contains("verdict:", gate.ToString(), StringComparison.Ordinal);
            Assert.Equal(FlagsCommand.NoData, verdict); // the legacy flow has no checkouts here
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static string Labels(JsonNode metric) =>
        metric.AsObject().Count == 0 ? "" : "{" + string.Join(",", metric.AsObject().Where(l => l.Key != "__name__").Select(l => $"{l.Key}={l.Value}")) + "} ";

    private static async Task<JsonArray?> QueryAsync(HttpClient http, string query)
    {
        try
        {
            using var response = await http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return JsonNode.Parse(body.RootElement.GetProperty("data").GetProperty("result").GetRawText())!.AsArray();
        }
        catch (HttpRequestException)
        {
            return null; // not up yet
        }
    }

}
