using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(CheckoutService.BrowserTests.BrowserFixture))]

namespace CheckoutService.BrowserTests;

/// <summary>
/// The service on real Kestrel with its embedded defaults, and Debian's chromium driven by
/// Playwright, each started once for the whole run; every test opens its own browser context.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private readonly ServiceHost _host = new();
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Screenshots and failure traces land here, beside the test binaries.</summary>
    public static string OutputDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "browser-output")).FullName;

    public async ValueTask InitializeAsync()
    {
        using var client = _host.CreateClient();
        BaseAddress = client.BaseAddress!;
        // The first render of each page pays for JIT and the antiforgery key ring: pay it here, not in a test's timeout.
        (await client.GetAsync("/")).EnsureSuccessStatusCode();
        (await client.GetAsync("/checkout/guest?cart_id=cart_warmup")).EnsureSuccessStatusCode();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task<IPage> NewPageAsync(ViewportSize? viewport = null, bool javaScript = true)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = BaseAddress.ToString(),
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
        await _host.DisposeAsync();
    }

    private sealed class ServiceHost : WebApplicationFactory<Program>
    {
        private readonly string _data = Directory.CreateTempSubdirectory("checkout-browser-").FullName;

        public ServiceHost() => UseKestrel(0);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("urls", "http://127.0.0.1:0");
            builder.UseSetting("DATABASE_URL", "sqlite:" + Path.Combine(_data, "checkout.db"));
            builder.UseSetting("PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS", "10");
            foreach (var limit in (string[])["CHECKOUT", "SESSION_READS", "CART_CREATES", "SESSION_STARTS", "SESSION_WRITES"])
            {
                builder.UseSetting($"RATE_LIMIT_{limit}_PER_MINUTE", "100000");
            }
            builder.ConfigureLogging(logging => logging.ClearProviders());
        }
    }
}
