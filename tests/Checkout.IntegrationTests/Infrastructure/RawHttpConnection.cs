using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>How a request's body reaches the server, as real clients and proxies send it.</summary>
public enum BodyDelivery
{
    /// <summary>Headers and body in one write, as HttpClient on loopback usually does.</summary>
    WithHeaders,
    /// <summary>The body 1–50 ms after the headers: a slow mobile link, or a proxy that forwards headers first.</summary>
    AfterHeaders,
    /// <summary><c>Expect: 100-continue</c>: the body only once the server asks for it, as curl does for larger bodies.</summary>
    ExpectContinue,
    /// <summary><c>Transfer-Encoding: chunked</c>, in chunks of random sizes, each its own write.</summary>
    Chunked,
    /// <summary>One byte per TCP segment.</summary>
    ByteByByte,
}

/// <summary>
/// One HTTP/1.1 keep-alive connection over a plain socket, writing each request exactly as its
/// <see cref="BodyDelivery"/> says. HttpClient (and the in-memory test server) hand the body over
/// whole, so the races between a server's reads of one body never show through them.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public Uri Address { get; private init; } = null!;

    /// <summary>False once the server said it closes the connection (or it had to be abandoned).</summary>
    public bool IsReusable { get; private set; } = true;

    public static async Task<RawHttpConnection> OpenAsync(Uri address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var client = new TcpClient { NoDelay = true }; // so a byte-by-byte body really goes a byte per segment
        await client.ConnectAsync(address.Host, address.Port, cancellationToken);
        return new RawHttpConnection(client) { Address = address };
    }

    public async Task<RawReply> SendAsync(
        string method, string path, string? body, BodyDelivery delivery, IEnumerable<(string Name, string Value)>? headers = null,
        string contentType = "application/json", CancellationToken cancellationToken = default)
    {
        var payload = body is null ? [] : Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: {Address.Authority}\r\n");
        foreach (var (name, value) in headers ?? [])
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        if (body is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Type: {contentType}\r\n");
            head.Append(delivery == BodyDelivery.Chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {payload.Length}\r\n");
            if (delivery == BodyDelivery.ExpectContinue)
            {
                head.Append("Expect: 100-continue\r\n");
            }
        }
        head.Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());

        if (body is null || delivery == BodyDelivery.WithHeaders)
        {
            await _stream.WriteAsync(headBytes.Concat(payload).ToArray(), cancellationToken);
            return await ReadFinalReplyAsync(cancellationToken);
        }
        await _stream.WriteAsync(headBytes, cancellationToken);
        switch (delivery)
        {
            case BodyDelivery.AfterHeaders:
                await Task.Delay(RandomNumberGenerator.GetInt32(1, 51), cancellationToken);
                await _stream.WriteAsync(payload, cancellationToken);
                break;
            case BodyDelivery.ExpectContinue:
                var interim = await ReadReplyAsync(cancellationToken);
                if (interim.Status != 100)
                {
                    // A final answer before the body was asked for: the body is never sent, so the connection cannot carry another request.
                    IsReusable = false;
                    return interim;
                }
                await _stream.WriteAsync(payload, cancellationToken);
                break;
            case BodyDelivery.Chunked:
                for (var at = 0; at < payload.Length;)
                {
                    var size = Math.Min(RandomNumberGenerator.GetInt32(1, 200), payload.Length - at);
                    await _stream.WriteAsync(Encoding.ASCII.GetBytes(size.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
                    await _stream.WriteAsync(payload.AsMemory(at, size), cancellationToken);
                    await _stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
                    at += size;
                }
                await _stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
                break;
            case BodyDelivery.ByteByByte:
                for (var at = 0; at < payload.Length; at++)
                {
                    await _stream.WriteAsync(payload.AsMemory(at, 1), cancellationToken);
                }
                break;
        }
        return await ReadFinalReplyAsync(cancellationToken);
    }

    private async Task<RawReply> ReadFinalReplyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var reply = await ReadReplyAsync(cancellationToken);
            if (reply.Status != 100)
            {
                return reply;
            }
        }
    }

    private async Task<RawReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var statusLine = await ReadLineAsync(cancellationToken);
        var status = int.Parse(statusLine.Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var line = await ReadLineAsync(cancellationToken); line.Length > 0; line = await ReadLineAsync(cancellationToken))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        if (status is 100 or 204 or 304)
        {
            return new RawReply(status, headers, "");
        }
        byte[] content;
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var whole = new MemoryStream();
            for (var size = ChunkSize(await ReadLineAsync(cancellationToken)); size > 0; size = ChunkSize(await ReadLineAsync(cancellationToken)))
            {
                whole.Write(await ReadExactlyAsync(size, cancellationToken));
                await ReadLineAsync(cancellationToken);
            }
            while ((await ReadLineAsync(cancellationToken)).Length > 0)
            {
                // trailers: none expected
            }
            content = whole.ToArray();
        }
        else
        {
            content = await ReadExactlyAsync(headers.TryGetValue("Content-Length", out var length) ? int.Parse(length, CultureInfo.InvariantCulture) : 0, cancellationToken);
        }
        if (headers.TryGetValue("Connection", out var connection) && connection.Equals("close", StringComparison.OrdinalIgnoreCase))
        {
            IsReusable = false;
        }
        return new RawReply(status, headers, Encoding.UTF8.GetString(content));
    }

    private static int ChunkSize(string line) => int.Parse(line.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.ASCII.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }
            var take = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, take);
            _start += take;
            copied += take;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            IsReusable = false;
            throw new IOException("The server closed the connection before its answer was complete");
        }
        _end += read;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}

/// <summary>An answer as it came over the socket.</summary>
public sealed record RawReply(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonNode? Json => Body.Length > 0 && Headers.TryGetValue("Content-Type", out var type) && type.Contains("json", StringComparison.Ordinal)
        ? JsonNode.Parse(Body)
        : null;

    public override string ToString() => $"{Status} {Body}";
}
