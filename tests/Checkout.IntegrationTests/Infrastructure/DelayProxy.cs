using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP proxy that delays everything the server sends by a fixed time, as a far-away region
/// would: each round trip through it costs at least that much, so a request's latency counts its
/// round trips. Bytes keep their order; nothing is dropped.
/// </summary>
public sealed class DelayProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public DelayProxy(IPEndPoint target, TimeSpan delay)
    {
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = AcceptAsync(target, delay);
    }

    public IPEndPoint EndPoint { get; }

    private int _connections;

    /// <summary>Connections accepted so far: a client that opens a new one instead of reusing its pool shows here.</summary>
    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync(IPEndPoint target, TimeSpan delay)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (client)
                using (var server = new TcpClient())
                {
                    await server.ConnectAsync(target, _stop.Token);
                    client.NoDelay = server.NoDelay = true;
                    await Task.WhenAny(
                        PumpAsync(client.GetStream(), server.GetStream(), TimeSpan.Zero),
                        PumpAsync(server.GetStream(), client.GetStream(), delay));
                }
            });
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>, each chunk sent <paramref name="delay"/> after it arrived.</summary>
    private async Task PumpAsync(Stream from, Stream to, TimeSpan delay)
    {
        var chunks = Channel.CreateUnbounded<(byte[] Data, long ArrivedAt)>();
        var sending = Task.Run(async () =>
        {
            await foreach (var (data, arrivedAt) in chunks.Reader.ReadAllAsync(_stop.Token))
            {
                var wait = delay - TimeProvider.System.GetElapsedTime(arrivedAt);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, TimeProvider.System, _stop.Token);
                }
                await to.WriteAsync(data, _stop.Token);
            }
        });
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                chunks.Writer.TryWrite((buffer[..read], TimeProvider.System.GetTimestamp()));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        chunks.Writer.TryComplete();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
