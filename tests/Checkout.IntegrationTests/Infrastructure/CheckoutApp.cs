using System.Net;
using CheckoutService.Payments;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Simulator;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// The service as a test host on real Kestrel (so body limits and sockets behave as deployed):
/// its own SQLite file, the in-process gateway simulator, and optionally a fake clock. Each test
/// makes its own carts, so tests share an instance freely.
/// </summary>
public class CheckoutApp : WebApplicationFactory<Program>
{
    public CheckoutApp()
    {
        // A real socket on a free loopback port. Listen() rather than UseKestrel(0): the factory's port
        // setting rewrites the server's addresses after the app's own thread may have bound them, which
        // threw "Addresses cannot be modified after the server has started" under load (dotnet/aspnetcore#67714).
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        // Every test client is 127.0.0.1; the limit tests set the real limits themselves.
        foreach (var limit in (string[])["CHECKOUT", "SESSION_READS", "CART_CREATES", "SESSION_STARTS", "SESSION_WRITES", "ANALYTICS_EVENTS"])
        {
            Settings[$"RATE_LIMIT_{limit}_PER_MINUTE"] = "100000";
        }
        // Tests decline cards freely from 127.0.0.1; DeclineLimitTests set the real limits.
        Settings["RATE_LIMIT_DECLINES_PER_CART"] = "100000";
        Settings["RATE_LIMIT_DECLINES_PER_IP_PER_HOUR"] = "100000";
        // Retries still happen, 10/20/40 ms apart instead of 1/2/4 s; the resilience tests use a fake clock.
        Settings["PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS"] = "10";
        // Many hosts share this process: none takes the metrics port unless a test asks for it (with port 0).
        Settings["METRICS_URL"] = "off";
        // A test host stops at once; the drain itself has its own test.
        Settings["SHUTDOWN_DRAIN_SECONDS"] = "0";
    }

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("checkout-tests-").FullName;

    /// <summary>A Wednesday morning, 08:14:22 UTC, the time of the API's reference exchanges.</summary>
    public static readonly DateTimeOffset TraceMorning = new(2025, 9, 10, 8, 14, 22, TimeSpan.Zero);

    public FakeTimeProvider? Clock { get; init; }

    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>The host's environment; the factory's default is Development.</summary>
    public string Environment { get; init; } = "Development";

    /// <summary>Swaps a service for a test (a failing store, say); runs after the app's own registrations.</summary>
    public Action<IServiceCollection>? ReplaceServices { get; init; }

    public GatewaySimulator Gateway => Services.GetRequiredService<GatewayEndpoint>().Simulator!;

    public ShopperClient Shopper() => new(CreateClient());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("DATABASE_URL", "sqlite:" + Path.Combine(_dataDirectory, "checkout.db"));
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.ClearProviders());
        if (Clock is not null)
        {
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
        }
        if (ReplaceServices is not null)
        {
            builder.ConfigureServices(ReplaceServices);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a pooled SQLite handle may still be closing; the OS temp folder is cleaned anyway
        }
    }
}

/// <summary>The same host with a fake clock, for expiry tests.</summary>
public sealed class CheckoutAppWithClock : CheckoutApp
{
    public CheckoutAppWithClock() => Clock = new FakeTimeProvider(TraceMorning);

    public FakeTimeProvider Time => Clock!;
}
