using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace CheckoutService.IntegrationTests.Operations;

/// <summary>
/// The deployment files agree with the app they run: ports, probe path, setting names, Kong's
/// limits, the metric names of the dashboard and the alerts. The Kubernetes manifests are not
/// checked against the API's schemas: kubeconform is not packaged for Debian and this machine
/// cannot download it, so only what the app depends on is checked here.
/// </summary>
public sealed partial class ManifestTests
{
    private static readonly CheckoutSettings Defaults = new();

    /// <summary>Every environment variable the service reads: its settings, plus the framework's own.</summary>
    private static readonly HashSet<string> SettingNames = typeof(CheckoutSettings).GetProperties()
        .Select(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name)
        .OfType<string>()
        .Concat(["ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"])
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The series the service exports (its metrics contract); histograms as their classic series.</summary>
    private static readonly HashSet<string> ExportedMetrics =
    [
        "checkout_started", "checkout_completed", "checkout_errors", "payment_intent_errors",
        "redis_keys", "redis_commands_total", "redis_expired_keys_total", "redis_evicted_keys_total",
        "launchdarkly_flag_evaluation", "outbox_pending_events", "outbox_lag_seconds", "webhook_events_parked",
        .. ((string[])["checkout_completion_duration_seconds", "payment_gateway_duration_seconds", "redis_command_duration_seconds"])
            .SelectMany(h => (string[])[h + "_bucket", h + "_sum", h + "_count"]),
    ];

    private static readonly YamlMappingNode Deployment = Yaml("deploy/k8s/deployment.yaml");
    private static readonly YamlNode PodSpec = Deployment["spec"]["template"]["spec"];
    private static readonly YamlNode Container = ((YamlSequenceNode)PodSpec["containers"]).Single();

    [Fact]
    public void ContainerPorts_AreTheAppsListeners_EverywhereTheyAreNamed()
    {
        // The service's own defaults: the API's in Program.cs, the metrics' in CheckoutSettings.
        var program = File.ReadAllText(Repository.PathOf("src/Checkout.Service/Program.cs"));
        var apiPort = new Uri(DefaultUrl().Match(program).Groups["url"].Value).Port;
        var metricsPort = new Uri(Defaults.MetricsUrl).Port;
        Assert.Equal((8080, 9090), (apiPort, metricsPort));

        var ports = Items(Container["ports"]).ToDictionary(p => Text(p["name"]), p => Number(p["containerPort"]));
        Assert.Equal(apiPort, ports["http"]);
        Assert.Equal(metricsPort, ports["metrics"]);
        var env = Env(Container);
        Assert.Equal(apiPort, new Uri(env["ASPNETCORE_URLS"]!).Port);
        Assert.Equal(metricsPort, new Uri(env["METRICS_URL"]!).Port);
        var annotations = Deployment["spec"]["template"]["metadata"]["annotations"];
        Assert.Equal(("true", metricsPort.ToString(CultureInfo.InvariantCulture)), (Text(annotations["prometheus.io/scrape"]), Text(annotations["prometheus.io/port"])));

        // The Service routes to the container's named ports; Prometheus and compose use the same numbers.
        var service = Yaml("deploy/k8s/service.yaml");
        Assert.All(Items(service["spec"]["ports"]), p => Assert.Contains(Text(p["targetPort"]), ports.Keys));
        Assert.Contains($"checkout-service:{metricsPort}", File.ReadAllText(Repository.PathOf("deploy/prometheus/prometheus.yml")));
        var compose = Yaml("compose.yaml")["services"]["checkout-service"];
        Assert.Equal(new[] { $"{apiPort}:{apiPort}", $"{metricsPort}:{metricsPort}" }, Items(compose["ports"]).Select(Text));
        var dockerfile = Dockerfile();
        Assert.Matches($@"(?m)^EXPOSE {apiPort} {metricsPort}$", dockerfile);
        Assert.Equal(apiPort, new Uri(DockerfileEnv(dockerfile)["ASPNETCORE_URLS"]).Port);
        Assert.Equal(metricsPort, new Uri(DockerfileEnv(dockerfile)["METRICS_URL"]).Port);
    }

    [Fact]
    public async Task Probes_AskForHealthz_WhichTheAppAnswers()
    {
        var probes = new[] { Container["readinessProbe"], Container["livenessProbe"] }.Select(p => p["httpGet"]).ToArray();
        Assert.All(probes, p => Assert.Equal(("/healthz", "8080"), (Text(p["path"]), Text(p["port"]))));

        await using var app = new CheckoutApp();
        app.Settings["METRICS_URL"] = "off"; // other tests' hosts may hold 9090
        using var shopper = app.Shopper();
        var health = await shopper.SendAsync(HttpMethod.Get, Text(probes[0]["path"]), null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
    }

    [Fact]
    public void EveryEnvironmentVariable_IsASettingTheAppReads()
    {
        var compose = Yaml("compose.yaml")["services"]["checkout-service"];
        var named = new Dictionary<string, IEnumerable<string>>
        {
            ["deploy/k8s/deployment.yaml"] = Env(Container).Keys,
            ["compose.yaml"] = ((YamlMappingNode)compose["environment"]).Children.Keys.Select(Text),
            ["Dockerfile"] = DockerfileEnv(Dockerfile()).Keys,
        };

        foreach (var (file, names) in named)
        {
            var unknown = names.Where(n => !SettingNames.Contains(n)).ToArray();
            Assert.True(unknown.Length == 0, $"{file} sets what the app never reads: {string.Join(", ", unknown)}");
        }
    }

    [Fact]
    public void Deployment_TakesSecretsFromSecrets_AndRunsNonRootOnAReadOnlyRoot()
    {
        var env = Items(Container["env"]).ToDictionary(e => Text(e["name"]));
        foreach (var secret in (string[])["STRIPE_WEBHOOK_SECRET", "PAYMENT_GATEWAY_SERVICE_TOKEN", "REDIS_URL", "DATABASE_URL"])
        {
            var entry = (YamlMappingNode)env[secret];
            Assert.False(entry.Children.ContainsKey("value"), secret);
            Assert.NotNull(entry["valueFrom"]["secretKeyRef"]["name"]);
        }
        // compose takes the webhook secret from the developer's shell, never a literal.
        Assert.Equal("", Text(Yaml("compose.yaml")["services"]["checkout-service"]["environment"]["STRIPE_WEBHOOK_SECRET"]));

        Assert.Equal("true", Text(PodSpec["securityContext"]["runAsNonRoot"]));
        var container = Container["securityContext"];
        Assert.Equal(("true", "false"), (Text(container["readOnlyRootFilesystem"]), Text(container["allowPrivilegeEscalation"])));
        Assert.Matches(@"(?m)^USER \d+$", Dockerfile());
    }

    [Fact]
    public void Deployment_GivesTheDrainItsTime_AndStartsWithTheLogsTargeting()
    {
        var env = Env(Container);
        var drain = env.TryGetValue("SHUTDOWN_DRAIN_SECONDS", out var value) ? int.Parse(value!, CultureInfo.InvariantCulture) : Defaults.ShutdownDrainSeconds;
        var preStop = Number(Container["lifecycle"]["preStop"]["sleep"]["seconds"]);
        Assert.True(Number(PodSpec["terminationGracePeriodSeconds"]) > preStop + drain);
        // A draining pod answers 503; liveness must not restart it before the drain ends.
        var liveness = Container["livenessProbe"];
        Assert.True(Number(liveness["periodSeconds"]) * Number(liveness["failureThreshold"]) > drain);

        Assert.Equal(("5", "us-east-1"), (env["GUEST_CHECKOUT_V2_PERCENT"], env["GUEST_CHECKOUT_V2_REGIONS"]));
        Assert.Equal("6", Text(Deployment["spec"]["replicas"]));
        Assert.Equal("6", Text(Yaml("deploy/k8s/hpa.yaml")["spec"]["minReplicas"]));
    }

    [Fact]
    public void SelectorsOfServiceAndPdb_MatchThePods()
    {
        var podLabels = (YamlMappingNode)Deployment["spec"]["template"]["metadata"]["labels"];
        var selectors = new[]
        {
            Deployment["spec"]["selector"]["matchLabels"],
            Yaml("deploy/k8s/service.yaml")["spec"]["selector"],
            Yaml("deploy/k8s/pdb.yaml")["spec"]["selector"]["matchLabels"],
        };
        Assert.All(selectors.SelectMany(s => ((YamlMappingNode)s).Children),
            label => Assert.Equal(Text(label.Value), Text(podLabels[label.Key])));
    }

    [Fact]
    public void Kong_LimitsTheRoutesAsTheAppDoes()
    {
        var kong = Yaml("deploy/kong/kong.yml");
        var service = Items(kong["services"]).Single();
        Assert.Equal("http://checkout-service.vantage-prod.svc.cluster.local:8080", Text(service["url"]));
        var routes = Items(service["routes"]).ToDictionary(r => Text(r["name"]));
        YamlNode Plugin(string route, string name) => Items(routes[route]["plugins"]).Single(p => Text(p["name"]) == name)["config"];

        Assert.Equal(Defaults.CheckoutRateLimitPerMinute, Number(Plugin("guest-checkout-v2-create", "rate-limiting")["minute"]));
        Assert.Equal(Defaults.SessionReadRateLimitPerMinute, Number(Plugin("guest-checkout-v2-session", "rate-limiting")["minute"]));
        var size = Plugin("guest-checkout-v2-create", "request-size-limiting");
        Assert.Equal("kilobytes", Text(size["size_unit"])); // Kong's kilobyte is 1024 bytes
        Assert.Equal(BodyLimits.Json, Number(size["allowed_payload_size"]) * 1024);
        var appOrigins = Defaults.CorsAllowedOrigins.Split(',');
        Assert.All(routes.Keys, r => Assert.Subset(appOrigins.ToHashSet(), Items(Plugin(r, "cors")["origins"]).Select(Text).ToHashSet()));
    }

    [Fact]
    public void DashboardQueries_UseOnlyTheServicesMetrics_AndTheRecordedHistograms()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Repository.PathOf("deploy/grafana/checkout-guest-v2.json")))!;
        Assert.Equal("checkout-guest-v2", (string?)dashboard["uid"]);
        var queries = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => (string)t!["expr"]!).ToArray();
        var known = ExportedMetrics.Concat(Rules("deploy/prometheus/rules.yml").Select(r => Text(r["record"]))).ToHashSet();

        Assert.NotEmpty(queries);
        Assert.All(queries, q => Assert.Subset(known, MetricNames(q).ToHashSet()));
        // The log's flow="guest_legacy" is flow="legacy" in the service's metrics.
        Assert.All(queries, q => Assert.DoesNotContain("guest_legacy", q));
    }

    [Fact]
    public void RulesAndAlerts_UseOnlyTheServicesMetrics_AndPointAtRunbooksInTheRepo()
    {
        // A recording rule reads the service's series, or what a rule above it records.
        var known = new HashSet<string>(ExportedMetrics);
        foreach (var rule in Rules("deploy/prometheus/rules.yml"))
        {
            Assert.Subset(known, MetricNames(Text(rule["expr"])).ToHashSet());
            known.Add(Text(rule["record"]));
        }
        var alerts = Rules("deploy/prometheus/alerts.yml").ToArray();

        Assert.Equal(5, alerts.Length);
        Assert.All(alerts, alert =>
        {
            Assert.Subset(ExportedMetrics, MetricNames(Text(alert["expr"])).ToHashSet());
            Assert.Matches("^P[12]$", Text(alert["labels"]["severity"]));
            Assert.NotEmpty(Text(alert["labels"]["team"]));
            Assert.NotEmpty(Text(alert["annotations"]["summary"]));
            var runbook = Text(alert["annotations"]["runbook"]);
            Assert.StartsWith("docs/runbooks/", runbook);
            Assert.True(File.Exists(Repository.PathOf(runbook)), runbook);
        });
    }

    /// <summary>The metric names a PromQL expression reads: what is left once strings, label matchers,
    /// grouping clauses, ranges, function calls and keywords are taken out.</summary>
    private static IEnumerable<string> MetricNames(string promql)
    {
        var bare = Ranges().Replace(Grouping().Replace(Matchers().Replace(Strings().Replace(promql, ""), ""), ""), "");
        return Identifiers().Matches(bare).Select(m => m.Value).Where(name => !Keywords.Contains(name));
    }

    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"];

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    // A name not inside a number and not followed by "(" (a function or aggregation).
    [GeneratedRegex(@"(?<![\w:.])(?>[a-zA-Z_:][\w:]*)(?!\s*\()")]
    private static partial Regex Identifiers();

    [GeneratedRegex("""UseUrls\("(?<url>[^"]+)"\)""")]
    private static partial Regex DefaultUrl();

    private static YamlMappingNode Yaml(string relative)
    {
        using var reader = new StreamReader(Repository.PathOf(relative));
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static IEnumerable<YamlNode> Rules(string relative) =>
        Items(Yaml(relative)["groups"]).SelectMany(group => Items(group["rules"]));

    private static IEnumerable<YamlNode> Items(YamlNode node) => (YamlSequenceNode)node;

    private static int Number(YamlNode node) => int.Parse(Text(node), CultureInfo.InvariantCulture);

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value ?? "";

    /// <summary>A container's env: a name with its literal value, or null when it comes from a Secret.</summary>
    private static Dictionary<string, string?> Env(YamlNode container) =>
        Items(container["env"]).ToDictionary(e => Text(e["name"]), e => ((YamlMappingNode)e).Children.TryGetValue("value", out var v) ? Text(v) : null);

    private static string Dockerfile() => File.ReadAllText(Repository.PathOf("Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);

    private static Dictionary<string, string> DockerfileEnv(string dockerfile) =>
        DockerfileEnvLine().Matches(dockerfile)
            .SelectMany(line => DockerfileAssignment().Matches(line.Value))
            .ToDictionary(a => a.Groups["name"].Value, a => a.Groups["value"].Value);

    [GeneratedRegex(@"(?m)^ENV .*$")]
    private static partial Regex DockerfileEnvLine();

    [GeneratedRegex(@"(?<name>[A-Z_][A-Z0-9_]*)=(?<value>\S+)")]
    private static partial Regex DockerfileAssignment();
}
