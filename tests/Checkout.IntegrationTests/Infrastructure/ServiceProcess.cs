using System.Diagnostics;
using System.Net;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// The service as its own OS process (<c>dotnet Checkout.Service.dll</c>), for what an in-process
/// host cannot show: a replica killed with SIGKILL, mid-work, and started again.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public HttpClient Client() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Starts the service with <paramref name="settings"/> on a free port and waits until <c>/healthz</c> says it is ready.</summary>
    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var address = new Uri($"http://127.0.0.1:{Ports.Free()}");
        var start = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "Checkout.Service.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_URLS"] = address.ToString(),
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Logging__LogLevel__Default"] = "Warning",
                ["METRICS_URL"] = "off",
            },
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        // Drain the logs so a full pipe never blocks the service.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, address);
        using var client = service.Client();
        var ready = await Eventually.TrueAsync(async () => await service.HealthAsync(client) == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        if (!ready)
        {
            await service.DisposeAsync();
            throw new InvalidOperationException("The service process did not become ready within 60 s");
        }
        return service;
    }

    /// <summary>What <c>/healthz</c> answers now; null while nothing listens.</summary>
    public async Task<HttpStatusCode?> HealthAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            using var response = await client.GetAsync(new Uri(Address, "/healthz"));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod: the service drains and exits by itself.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>Waits for the process to end by itself; its exit code.</summary>
    public async Task<int> ExitedAsync(TimeSpan within)
    {
        await _process.WaitForExitAsync().WaitAsync(within);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hook runs, whatever the process was doing is cut where it stood.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

}
