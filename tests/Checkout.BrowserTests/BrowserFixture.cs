using System.Collections.Concurrent;
using CheckoutService.Analytics;
using CheckoutService.Payments;
using CheckoutService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Simulator;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(CheckoutService.BrowserTests.BrowserFixture))]

namespace CheckoutService.BrowserTests;

/// <summary>
/// The service on real Kestrel with its embedded defaults, and Debian's chromium driven by
/// Playwright, each started once for the whole run; every test opens its own browser context.
/// A test that changes the clock or the gateway starts a host of its own, so nothing it changes
/// reaches another test.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public ServiceHost Host { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>
    /// Each test's limit (<c>[Fact(Timeout = …)]</c>). A test takes well under a minute, and an action
    /// that cannot happen fails after the context's 90 s; a wait with no timeout of its own (an
    /// evaluated promise, an event) is what this catches, so the run fails that test rather than hang.
    /// </summary>
    public const int TestTimeoutMs = 180_000;

    /// <summary>Screenshots and failure traces land here, beside the test binaries.</summary>
    public static string OutputDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "browser-output")).FullName;

    public async ValueTask InitializeAsync()
    {
        await Host.WarmAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A new browser context (its own cookies and storage) on the shared host, or on <paramref name="host"/>.</summary>
    public async Task<IPage> NewPageAsync(ViewportSize? viewport = null, bool javaScript = true, ServiceHost? host = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = (host ?? Host).BaseAddress.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
            JavaScriptEnabled = javaScript,
        });
        // A busy CI machine can take its time; a real failure still fails, only later.
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        await context.Tracing.StartAsync(new() { Screenshots = true, Snapshots = true });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>
/// The service on Kestrel with its embedded defaults: its own SQLite file, the in-process gateway
/// simulator; optionally a fake clock, settings of its own, and every log line it writes, at Trace.
/// </summary>
public sealed class ServiceHost(FakeTimeProvider? clock = null, IReadOnlyDictionary<string, string>? settings = null, bool captureLogs = false)
    : WebApplicationFactory<Program>
{
    private readonly string _data = Directory.CreateTempSubdirectory("checkout-browser-").FullName;
    private readonly ConcurrentQueue<string> _logLines = new();

    /// <summary>Each log line as written, with its structured values (only when started with <c>captureLogs</c>).</summary>
    public IReadOnlyCollection<string> LogLines => _logLines;

    public Uri BaseAddress { get; private set; } = null!;

    public FakeTimeProvider? Clock => clock;

    public GatewaySimulator Gateway => Services.GetRequiredService<GatewayEndpoint>().Simulator!;

    /// <summary>Starts the host and renders each page once: the first render pays for JIT and the antiforgery key ring, not a test's timeout.</summary>
    public async Task<ServiceHost> WarmAsync()
    {
        // Listen() rather than UseKestrel(0), whose port setting races the app's own bind (dotnet/aspnetcore#67714).
        UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        using var client = CreateClient();
        BaseAddress = client.BaseAddress!;
        (await client.GetAsync("/")).EnsureSuccessStatusCode();
        (await client.GetAsync("/checkout/guest?cart_id=cart_warmup")).EnsureSuccessStatusCode();
        return this;
    }

    /// <summary>The funnel events stored for a cart (or an order), as the outbox will relay them.</summary>
    public Task<IReadOnlyList<string>> AnalyticsEventsAsync(string key) =>
        Services.GetRequiredService<Outbox>().ReadAsync(FunnelEvent.Topic, key, CancellationToken.None);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("DATABASE_URL", "sqlite:" + Path.Combine(_data, "checkout.db"));
        builder.UseSetting("PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS", "10");
        builder.UseSetting("METRICS_URL", "off");
        builder.UseSetting("SHUTDOWN_DRAIN_SECONDS", "0");
        foreach (var limit in (string[])["CHECKOUT", "SESSION_READS", "CART_CREATES", "SESSION_STARTS", "SESSION_WRITES", "ANALYTICS_EVENTS"])
        {
            builder.UseSetting($"RATE_LIMIT_{limit}_PER_MINUTE", "100000");
        }
        builder.UseSetting("RATE_LIMIT_DECLINES_PER_CART", "100000");
        builder.UseSetting("RATE_LIMIT_DECLINES_PER_IP_PER_HOUR", "100000");
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(name, value);
        }
        builder.ConfigureLogging(logging => logging.ClearProviders());
        if (captureLogs)
        {
            foreach (var category in (string[])["Default", "Microsoft.AspNetCore", "Microsoft.Extensions.Http", "Polly", "System.Net.Http.HttpClient"])
            {
                builder.UseSetting($"Logging:LogLevel:{category}", "Trace");
            }
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturingLoggerProvider(_logLines)));
        }
        if (clock is not null)
        {
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(clock));
        }
    }
}

/// <summary>Keeps every line, its message and each structured value, so a test can search what the service logged.</summary>
internal sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope: {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {Describe(state)} {exception}");

        private static string Describe(object? state) =>
            state is IEnumerable<KeyValuePair<string, object?>> values ? string.Join(" ", values.Select(v => $"{v.Key}={v.Value}")) : $"{state}";
    }
}
