using System.Diagnostics;
using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(CheckoutService.IntegrationTests.Infrastructure.RedisServers))]

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// Real Redis for the whole test run: one standalone <c>redis-server</c> and a 3-primary /
/// 3-replica Cluster on loopback, started once and shared (tests use random keys). Tests that
/// stop a server start their own with <see cref="StartStandaloneAsync"/>.
/// </summary>
public sealed class RedisServers : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "checkout-redis-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<RedisProcess> _processes = [];

    public RedisProcess Standalone { get; private set; } = null!;

    public IReadOnlyList<RedisProcess> ClusterNodes { get; private set; } = [];

    /// <summary>Seeds for the Cluster; StackExchange.Redis discovers the rest.</summary>
    public string ClusterUrl => string.Join(',', ClusterNodes.Select(n => n.EndPoint));

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        Standalone = await StartStandaloneAsync();
        ClusterNodes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => StartAsync("--cluster-enabled", "yes", "--cluster-node-timeout", "2000")));
        await RunAsync("redis-cli", ["--cluster", "create", .. ClusterNodes.Select(n => n.EndPoint), "--cluster-replicas", "1", "--cluster-yes"]);
        await WaitForClusterAsync();
    }

    public Task<RedisProcess> StartStandaloneAsync() => StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Kill();
        }
        await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<RedisProcess> StartAsync(params string[] extra)
    {
        var port = Ports.Free();
        var directory = Directory.CreateDirectory(Path.Combine(_directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        var process = new RedisProcess(port, directory, extra);
        _processes.Add(process);
        await process.StartAsync();
        return process;
    }

    private async Task WaitForClusterAsync()
    {
        // The cluster answers once every node agrees all 16384 slots are served.
        for (var i = 0; i < 100; i++)
        {
            var states = await Task.WhenAll(ClusterNodes.Select(async n => await RunAsync("redis-cli", ["-p", n.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "cluster", "info"])));
            if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal)))
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
        throw new InvalidOperationException("Redis Cluster did not become ready");
    }

    internal static async Task<string> RunAsync(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start; .ci/run installs redis-server and redis-tools");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} exited {process.ExitCode}: {output}{error}");
    }

}

/// <summary>One <c>redis-server</c> on a loopback port, which a test may stop and start again on the same port.</summary>
public sealed class RedisProcess(int port, string directory, string[] extra)
{
    private Process? _process;

    public int Port => port;

    public string EndPoint => $"127.0.0.1:{port}";

    public string Url => $"redis://127.0.0.1:{port}";

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", .. extra])
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start; .ci/run installs it");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"{EndPoint},connectTimeout=200,abortConnect=true");
                return;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
            }
        }
        throw new InvalidOperationException($"redis-server on {EndPoint} did not answer");
    }

    public async Task StopAsync()
    {
        Kill();
        await _process!.WaitForExitAsync();
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
        }
    }
}
