using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LoadTest;

internal sealed class SetupException(string message) : Exception(message);

/// <summary>
/// What a run measures: the service and the gateway simulator as child processes on free ports
/// (or a service already running, with --url), and the bare endpoint inside this process.
/// </summary>
internal sealed class Services : IAsyncDisposable
{
    private readonly List<ChildProcess> _children = [];
    private readonly WebApplication _bare;
    private readonly DirectoryInfo? _temp;
    private ChildProcess? _service;

    private Services(WebApplication bare, Uri bareUrl, DirectoryInfo? temp)
    {
        (_bare, BareUrl, _temp) = (bare, bareUrl, temp);
    }

    public Uri BareUrl { get; }
    public Uri? Service { get; private set; }
    public Uri? Gateway { get; private set; }
    public string Description { get; private set; } = "bare endpoint only";

    /// <summary>The service's resident memory now, in bytes; null when this run did not start it.</summary>
    public long? ServiceMemory() => _service?.ResidentBytes();

    /// <summary>Calls <paramref name="watch"/> with every line the service logs from now on (Warning and above).</summary>
    public void WatchServiceLog(Action<string> watch) => _service?.Watch(watch);

    /// <summary>Changes the gateway simulator's latency and outage while it runs (its POST /_control).</summary>
    public async Task ControlGatewayAsync(int latencyMs, bool outage, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        using var body = new StringContent(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $$"""{"latency_ms":{{latencyMs}},"outage":{{(outage ? "true" : "false")}}}"""),
            System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(Gateway ?? throw new SetupException("no gateway simulator in this run"), "/_control"), body, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new SetupException($"the gateway simulator's /_control answered {(int)response.StatusCode}");
        }
    }

    /// <summary>What the service logged (Warning and above only): a retry storm or a failing store shows here first.</summary>
    public string LogSummary() => _service is not { } service
        ? ""
        : $"service log: {service.LinesLogged} lines at Warning or above"
            + string.Concat(service.Tail(3).Select(line => Environment.NewLine + "  " + (line.Length > 300 ? line[..300] + "…" : line)));

    public static async Task<Services> StartAsync(Options o, bool needsService, CancellationToken ct)
    {
        var (bare, bareUrl) = await StartBareAsync(ct);
        var temp = o.Url is null && needsService ? Directory.CreateTempSubdirectory("checkout-loadtest-") : null;
        var services = new Services(bare, bareUrl, temp);
        // Children die with this process even when it is stopped with SIGTERM or Ctrl+C.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => services.KillChildren();
        try
        {
            if (o.Url is { } url)
            {
                (services.Service, services.Gateway) = (url, o.GatewayUrl);
                services.Description = $"service already running at {url}" + (o.GatewayUrl is null ? ", no gateway ledger" : $", gateway at {o.GatewayUrl}");
            }
            else if (needsService)
            {
                await services.StartChildrenAsync(o, temp!, ct);
            }
            return services;
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
    }

    /// <summary>The checkout-service checkout this tool belongs to: found from the working directory, then from the tool's own folder.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "checkout-service.slnx")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new SetupException("checkout-service.slnx not found above the working directory");
    }

    private async Task StartChildrenAsync(Options o, DirectoryInfo temp, CancellationToken ct)
    {
        var root = RepoRoot();
        var project = Path.Combine(root, "src", "Checkout.Service", "Checkout.Service.csproj");
        if (!o.NoBuild)
        {
            // Release builds of both (the service references the simulator), so a run measures the code as it is now.
            Console.WriteLine("building src/Checkout.Service and src/PaymentGateway.Simulator (Release)…");
            using var build = ChildProcess.Start("dotnet", ["build", project, "-c", "Release", "--nologo", "-v", "q"], root, new Dictionary<string, string?>());
            if (await build.WaitForExitAsync(ct) != 0)
            {
                throw new SetupException("dotnet build failed:" + Environment.NewLine + build.Output);
            }
        }
        var simulatorDll = Path.Combine(root, "src", "PaymentGateway.Simulator", "bin", "Release", "net10.0", "PaymentGateway.Simulator.dll");
        var serviceDll = Path.Combine(root, "src", "Checkout.Service", "bin", "Release", "net10.0", "Checkout.Service.dll");

        var gateway = new Uri($"http://127.0.0.1:{FreePort()}");
        var simulator = Spawn(simulatorDll, new()
        {
            ["SIMULATOR_URL"] = gateway.ToString().TrimEnd('/'),
            ["SIMULATOR_LATENCY_MS"] = o.GatewayLatencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PAYMENT_GATEWAY_SERVICE_TOKEN"] = null,
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await WaitUntilUpAsync(simulator, new Uri(gateway, "/api/v1/ledger?cart_id=ready"), ct);
        Gateway = gateway;

        var service = new Uri($"http://127.0.0.1:{FreePort()}");
        var env = new Dictionary<string, string?>
        {
            // Measured as it runs in production: Development adds the developer exception page and more (about 25 % of a session read).
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = service.ToString().TrimEnd('/'),
            ["PAYMENT_GATEWAY_URL"] = gateway.ToString().TrimEnd('/'),
            ["PAYMENT_GATEWAY_SERVICE_TOKEN"] = null,
            ["METRICS_URL"] = "off",
            ["DATABASE_URL"] = o.Database ?? "sqlite:" + Path.Combine(temp.FullName, "checkout.db"),
            // The measured setup is what the options say, not whatever the shell happened to export.
            ["REDIS_URL"] = o.Redis,
            ["KAFKA_BOOTSTRAP_SERVERS"] = null,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            ["STRIPE_WEBHOOK_SECRET"] = null,
            // What Production asks for: the page shoppers come back to from 3-D Secure, the key that seals
            // verification codes (a throwaway one per run), and where the page gets Stripe.js.
            ["PAYMENT_RETURN_URL"] = new Uri(service, "/checkout/guest").ToString(),
            ["EMAIL_EVENT_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["PAYMENT_JS_URL"] = new Uri(gateway, "/v3/stripe.js").ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // A long checkout case prepares tens of thousands of carts with their sessions up front; the in-process
        // store's default cap (200,000 entries) guards production memory and is not what is measured here.
        env["INPROCESS_STORE_MAX_ENTRIES"] = "2000000";
        // Shoppers are many; the load comes from one address, so the per-IP limits would measure the limiter instead.
        foreach (var limit in new[] { "CHECKOUT", "SESSION_READS", "CART_CREATES", "SESSION_STARTS", "SESSION_WRITES", "ANALYTICS_EVENTS", "ADDRESS_VALIDATIONS" })
        {
            env[$"RATE_LIMIT_{limit}_PER_MINUTE"] = "1000000";
        }
        foreach (var (name, value) in o.ServiceEnvironment)
        {
            env[name] = value;
        }
        _service = Spawn(serviceDll, env);
        await WaitUntilUpAsync(_service, new Uri(service, "/healthz"), ct);
        Service = service;
        Description = $"Checkout.Service (Release) on {(o.Redis is null ? "in-process state" : "Redis")} and "
            + $"{(o.Database is null ? "SQLite" : "the given database")}, gateway simulator at {o.GatewayLatencyMs} ms, both child processes";
    }

    private ChildProcess Spawn(string dll, Dictionary<string, string?> env)
    {
        if (!File.Exists(dll))
        {
            throw new SetupException($"{dll} is missing: run without --no-build");
        }
        // The dll's folder as working directory: nothing the service writes lands in the source tree.
        var child = ChildProcess.Start("dotnet", [dll], Path.GetDirectoryName(dll)!, env);
        _children.Add(child);
        return child;
    }

    private static async Task WaitUntilUpAsync(ChildProcess child, Uri probe, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 90);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (child.HasExited)
            {
                throw new SetupException($"{child.Name} exited with {child.ExitCode}:" + Environment.NewLine + child.Output);
            }
            try
            {
                using var response = await http.GetAsync(probe, ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // a slow first answer while it warms up
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, ct);
        }
        throw new SetupException($"{child.Name} did not answer {probe} within 90 s:" + Environment.NewLine + child.Output);
    }

    /// <summary>
    /// The ceiling every figure is divided by: a slim Kestrel app answering a small JSON object, built
    /// like the service (CreateSlimBuilder), with no middleware and no logging.
    /// </summary>
    private static async Task<(WebApplication, Uri)> StartBareAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.TypeInfoResolverChain.Insert(0, LoadJson.Default));
        var app = builder.Build();
        long served = 0;
        app.MapGet("/bare", () => TypedResults.Ok(new BareAnswer("ok", Interlocked.Increment(ref served))));
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void KillChildren()
    {
        foreach (var child in _children)
        {
            child.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillChildren();
        await _bare.DisposeAsync();
        try
        {
            _temp?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a file the killed service still held; the temp folder is cleaned by the OS later
        }
    }
}

/// <summary>A child process whose output is kept (the last lines) to explain a failed start.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly ConcurrentBag<Action<string>> _watchers = [];
    private long _lines;

    private ChildProcess(Process process, string name) => (_process, Name) = (process, name);

    public string Name { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Output => string.Join(Environment.NewLine, _tail);
    public long LinesLogged => Interlocked.Read(ref _lines);
    public IEnumerable<string> Tail(int lines) => _tail.TakeLast(lines);

    public void Watch(Action<string> watch) => _watchers.Add(watch);

    /// <summary>Resident set size (what the process holds in RAM), in bytes; null once it has exited.</summary>
    public long? ResidentBytes()
    {
        try
        {
            _process.Refresh();
            return _process.HasExited ? null : _process.WorkingSet64;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL, as a crash or an OOM kill would: no shutdown, nothing flushed.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public static ChildProcess Start(string file, IEnumerable<string> args, string workingDirectory, Dictionary<string, string?> env)
    {
        var info = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in env)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, Path.GetFileNameWithoutExtension(args.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal)) ?? file));
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public async Task<int> WaitForExitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        return _process.ExitCode;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        Interlocked.Increment(ref _lines);
        _tail.Enqueue(line);
        foreach (var watch in _watchers)
        {
            watch(line);
        }
        while (_tail.Count > 40 && _tail.TryDequeue(out _))
        {
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started, or already gone
        }
        _process.Dispose();
    }
}
