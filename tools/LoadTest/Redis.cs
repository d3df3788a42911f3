using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace LoadTest;

/// <summary>One redis-server of a scenario's own, on a free loopback port.</summary>
internal sealed record RedisNode(int Port, ChildProcess Process)
{
    public string EndPoint => $"127.0.0.1:{Port}";
}

/// <summary>A Cluster primary and the slots it serves, with its replica, from CLUSTER NODES.</summary>
internal sealed record ClusterShard(string Id, RedisNode Primary, RedisNode? Replica, IReadOnlyList<(int From, int To)> Slots)
{
    public bool Serves(int slot) => Slots.Any(r => slot >= r.From && slot <= r.To);
}

/// <summary>
/// redis-server processes for the scenarios that bring their own Redis: one alone, or a 3-primary /
/// 3-replica Cluster. Throwaway: no persistence, a temp folder each, all killed and removed on dispose
/// (and with this process, however it ends).
/// </summary>
internal sealed class RedisServers : IAsyncDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("checkout-loadtest-redis-");
    private readonly List<RedisNode> _nodes = [];

    private RedisServers() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    public IReadOnlyList<RedisNode> Nodes => _nodes;

    /// <summary>Seeds for REDIS_URL as a StackExchange.Redis configuration string; the client finds the rest of a Cluster.</summary>
    public string Url => string.Join(',', _nodes.Select(n => n.EndPoint));

    public static async Task<RedisServers> StandaloneAsync(CancellationToken ct)
    {
        var servers = new RedisServers();
        try
        {
            await servers.StartNodeAsync([], ct);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Six nodes made into a Cluster with one replica per primary. Node timeout 2 s (a dead primary's
    /// replica takes over 3-4 s later); <c>cluster-require-full-coverage no</c>, so the healthy shards keep
    /// answering while one shard has no primary, instead of every node answering CLUSTERDOWN.
    /// </summary>
    public static async Task<RedisServers> ClusterAsync(CancellationToken ct)
    {
        var servers = new RedisServers();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                await servers.StartNodeAsync(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-require-full-coverage", "no"], ct);
            }
            await CliAsync(["--cluster", "create", .. servers._nodes.Select(n => n.EndPoint), "--cluster-replicas", "1", "--cluster-yes"], ct);
            await servers.WaitForClusterAsync(ct);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    /// <summary>The shards as <paramref name="asked"/> (a live node) sees them now.</summary>
    public async Task<IReadOnlyList<ClusterShard>> ShardsAsync(RedisNode asked, CancellationToken ct)
    {
        // <id> <ip:port@cport> <flags> <primary id|-> <ping> <pong> <epoch> <link> <slot ranges…>
        var lines = (await CliAsync(["-p", asked.Port.ToString(CultureInfo.InvariantCulture), "cluster", "nodes"], ct))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        RedisNode NodeOf(string[] line) => _nodes.Single(n => line[1].StartsWith(n.EndPoint + "@", StringComparison.Ordinal));
        return
        [
            .. lines.Where(l => l[2].Contains("master", StringComparison.Ordinal) && !l[2].Contains("fail", StringComparison.Ordinal) && l.Length > 8)
                .Select(l => new ClusterShard(l[0], NodeOf(l), lines.Where(r => r[3] == l[0]).Select(NodeOf).FirstOrDefault(),
                    [.. l[8..].Where(r => !r.StartsWith('[')).Select(r => r.Split('-')).Select(r => (int.Parse(r[0], CultureInfo.InvariantCulture), int.Parse(r[^1], CultureInfo.InvariantCulture)))])),
        ];
    }

    /// <summary>Redis Cluster's hash slot of a key: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384.</summary>
    public static int KeySlot(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        var close = open < 0 ? -1 : key.IndexOf('}', open + 1);
        var hashed = close > open + 1 ? key[(open + 1)..close] : key;
        ushort crc = 0;
        foreach (var b in Encoding.UTF8.GetBytes(hashed))
        {
            crc ^= (ushort)(b << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
        }
        return crc % 16384;
    }

    private async Task StartNodeAsync(string[] extra, CancellationToken ct)
    {
        var port = Services.FreePort();
        var directory = _directory.CreateSubdirectory(port.ToString(CultureInfo.InvariantCulture)).FullName;
        var process = Run("redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", .. extra], directory);
        var node = new RedisNode(port, process);
        _nodes.Add(node);
        for (var i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                throw new SetupException($"redis-server on port {port} exited with {process.ExitCode}: {process.Output}");
            }
            try
            {
                if ((await CliAsync(["-p", port.ToString(CultureInfo.InvariantCulture), "ping"], ct)).Trim() == "PONG")
                {
                    return;
                }
            }
            catch (SetupException)
            {
                // not listening yet
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct);
        }
        throw new SetupException($"redis-server on port {port} did not answer PING");
    }

    private async Task WaitForClusterAsync(CancellationToken ct)
    {
        // Ready once every node agrees all 16384 slots are served and every replica has synced with its primary.
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 30);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var info = await Task.WhenAll(_nodes.Select(n => CliAsync(["-p", n.Port.ToString(CultureInfo.InvariantCulture), "info", "replication"], ct)));
            var states = await Task.WhenAll(_nodes.Select(n => CliAsync(["-p", n.Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"], ct)));
            if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal))
                && info.Count(i => i.Contains("master_link_status:up", StringComparison.Ordinal)) == _nodes.Count / 2)
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, ct);
        }
        throw new SetupException("the Redis Cluster did not become ready within 30 s");
    }

    /// <summary>Runs redis-cli and returns what it printed; a failure to run or a non-zero exit is a set-up failure.</summary>
    public static async Task<string> CliAsync(IEnumerable<string> args, CancellationToken ct)
    {
        using var cli = Run("redis-cli", args, Environment.CurrentDirectory);
        var exit = await cli.WaitForExitAsync(ct);
        return exit == 0 ? cli.Output : throw new SetupException($"redis-cli {string.Join(' ', args)} exited with {exit}: {cli.Output}");
    }

    private static ChildProcess Run(string file, IEnumerable<string> args, string directory)
    {
        try
        {
            return ChildProcess.Start(file, args, directory, new Dictionary<string, string?>());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SetupException($"{file} did not start ({e.Message}); apt-get install redis-server redis-tools");
        }
    }

    private void KillAll()
    {
        foreach (var node in _nodes)
        {
            node.Process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillAll();
        await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, CancellationToken.None);
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a file a killed server still held; the temp folder is cleaned by the OS later
        }
    }
}
