using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace FlagExport.Testing;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of an S3 endpoint that injects network faults, switchable while it runs (see
/// <see cref="FaultMode"/>). Point a client's service URL at <see cref="Endpoint"/>.
/// </summary>
/// <remarks>
/// <para>Written by hand on sockets: no well-kept .NET library injects faults at the TCP level (resets, half-sent
/// bodies, lost answers), and faking the S3 client instead would skip the SDK's own retries and connection pool, which
/// are part of what the tests exercise.</para>
/// <para>Each connection keeps the fault in force when it was accepted. Changing the fault resets every connection
/// accepted before, so that a kept-alive connection in the client's pool neither escapes a new fault nor keeps an old
/// one (a black-holed connection ends there too).</para>
/// <para><see cref="DisposeAsync"/> stops listening, resets every connection and waits for every task of the proxy.</para>
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>How long disposal waits for the connections' tasks; they end as soon as their sockets are reset.</summary>
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    // Under _gate: the fault in force, and the connections alive and tasks started (so that a fault change sees every
    // connection accepted under the previous fault, and disposal awaits every task).
    private readonly Lock _gate = new();
    private readonly HashSet<Connection> _live = [];
    private readonly List<Task> _tasks = [];
    private Fault _fault = new(FaultMode.Pass, Generation: 0);

    private long _connections;
    private long _faults;
    private int _disposed;

    private FaultProxy(Uri target)
    {
        _targetHost = target.Host;
        _targetPort = target.Port;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where clients connect: <c>http://127.0.0.1:port</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The fault applied to new connections.</summary>
    public FaultMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _fault.Mode;
            }
        }
    }

    /// <summary>How many connections were accepted.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>How many faults were injected: connections refused, reset, black-holed or delayed; answers given or dropped.</summary>
    public long FaultsInjected => Interlocked.Read(ref _faults);

    /// <summary>Starts a proxy to <paramref name="target"/> (an <c>http://host:port</c> endpoint), in <see cref="FaultMode.Pass"/>.</summary>
    public static FaultProxy Start(Uri target) => new(target);

    public void Pass() => Set(FaultMode.Pass);

    public void RefuseConnections() => Set(FaultMode.RefuseConnections);

    /// <summary>Forwards the first <paramref name="afterBytes"/> bytes the client sends on each connection, then resets it.</summary>
    /// <remarks>A connection that never sends that many bytes (a short request alone) passes untouched.</remarks>
    public void ResetMidBody(int afterBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterBytes);
        Set(FaultMode.ResetMidBody, resetAfterBytes: afterBytes);
    }

    /// <summary>Holds back each chunk, in both directions, for <paramref name="perChunk"/>.</summary>
    public void Delay(TimeSpan perChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perChunk, TimeSpan.Zero);
        Set(FaultMode.Delay, delay: perChunk);
    }

    public void BlackHole() => Set(FaultMode.BlackHole);

    /// <summary>Answers each request with <paramref name="status"/> (500 InternalError, 503 SlowDown, …) itself.</summary>
    public void Answer(int status)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        Set(FaultMode.Answer, status: status);
    }

    /// <summary>
    /// Forwards each request, and resets the connection when the server's answer arrives to a request whose request
    /// line (<c>POST /bucket/key?uploadId=… HTTP/1.1</c>) satisfies <paramref name="request"/>; every request when null.
    /// </summary>
    public void DropResponse(Func<string, bool>? request = null) => Set(FaultMode.DropResponse, dropWhen: request);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;

        Connection[] live;
        Task[] tasks;
        lock (_gate)
        {
            live = [.. _live];
            tasks = [.. _tasks];
        }

        foreach (Connection connection in live)
        {
            connection.End(reset: true);
        }

        await Task.WhenAll(tasks).WaitAsync(DisposeTimeout);
        _stop.Dispose();
    }

    private void Set(FaultMode mode, int resetAfterBytes = 0, TimeSpan delay = default, int status = 0, Func<string, bool>? dropWhen = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Connection[] earlier;
        lock (_gate)
        {
            _fault = new Fault(mode, _fault.Generation + 1, resetAfterBytes, delay, status, dropWhen);
            earlier = [.. _live];
        }

        foreach (Connection connection in earlier)
        {
            connection.End(reset: true);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return; // stopped
            }

            _ = Interlocked.Increment(ref _connections);
            client.NoDelay = true;
            lock (_gate)
            {
                var connection = new Connection(client, _fault);
                _ = _live.Add(connection);
                _ = _tasks.RemoveAll(t => t.IsCompleted);
                _tasks.Add(Task.Run(() => ServeAsync(connection)));
            }
        }
    }

    private async Task ServeAsync(Connection connection)
    {
        try
        {
            switch (connection.Fault.Mode)
            {
                case FaultMode.RefuseConnections:
                    CountFault();
                    connection.End(reset: true);
                    break;
                case FaultMode.BlackHole:
                    CountFault();
                    await DiscardAsync(connection.Client, connection.Token);
                    break;
                case FaultMode.Answer:
                    await AnswerAsync(connection);
                    break;
                default:
                    await ForwardAsync(connection);
                    break;
            }
        }
        catch (Exception exception) when (IsConnectionEnd(exception))
        {
            connection.End(reset: true);
        }
        finally
        {
            connection.End(reset: false); // no-op when already ended
            lock (_gate)
            {
                _ = _live.Remove(connection);
            }
        }
    }

    private async Task ForwardAsync(Connection connection)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        connection.AttachServer(server);
        await server.ConnectAsync(_targetHost, _targetPort, connection.Token);
        if (connection.Fault.Mode == FaultMode.Delay)
        {
            CountFault();
        }

        await Task.WhenAll(PumpAsync(connection, ClientToServerAsync), PumpAsync(connection, ServerToClientAsync));
    }

    /// <summary>Runs one direction; a failure in it resets the connection, which ends the other direction too.</summary>
    private static async Task PumpAsync(Connection connection, Func<Connection, Task> direction)
    {
        try
        {
            await direction(connection);
        }
        catch (Exception exception) when (IsConnectionEnd(exception))
        {
            connection.End(reset: true);
        }
    }

    private async Task ClientToServerAsync(Connection connection)
    {
        Fault fault = connection.Fault;
        Socket client = connection.Client;
        Socket server = connection.Server!;
        CancellationToken token = connection.Token;
        byte[] buffer = new byte[ChunkSize];
        long forwarded = 0;
        RequestFraming? framing = fault.Mode == FaultMode.DropResponse ? new RequestFraming() : null;
        while (true)
        {
            int read = await client.ReceiveAsync(buffer, SocketFlags.None, token);
            if (read == 0)
            {
                server.Shutdown(SocketShutdown.Send);
                return;
            }

            // Before the bytes go on: the server cannot answer a request whose head it has not received.
            framing?.Feed(buffer.AsSpan(0, read), connection.RequestSent);

            if (fault.Mode == FaultMode.ResetMidBody && forwarded + read >= fault.ResetAfterBytes)
            {
                await SendAllAsync(server, buffer.AsMemory(0, (int)(fault.ResetAfterBytes - forwarded)), token);
                CountFault();
                connection.End(reset: true);
                return;
            }

            if (fault.Mode == FaultMode.Delay)
            {
                await Task.Delay(fault.Delay, token);
            }

            await SendAllAsync(server, buffer.AsMemory(0, read), token);
            forwarded += read;
        }
    }

    private async Task ServerToClientAsync(Connection connection)
    {
        Fault fault = connection.Fault;
        Socket client = connection.Client;
        Socket server = connection.Server!;
        CancellationToken token = connection.Token;
        byte[] buffer = new byte[ChunkSize];
        byte[] held = new byte[ChunkSize];
        int heldCount = 0;
        bool dropping = false; // the answer arriving is to a request whose answer is to be lost
        while (true)
        {
            int read = await server.ReceiveAsync(buffer, SocketFlags.None, token);
            if (read == 0)
            {
                client.Shutdown(SocketShutdown.Send);
                return;
            }

            if (fault.Mode == FaultMode.DropResponse && !dropping)
            {
                // HTTP/1.1 clients send the next request only once the answer to the last one is read, so the first
                // bytes after a request was sent start its answer.
                dropping = connection.TakeRequestSent() is { } request && (fault.DropWhen?.Invoke(request) ?? true);
            }

            if (dropping)
            {
                if (heldCount + read > held.Length)
                {
                    Array.Resize(ref held, Math.Max(held.Length * 2, heldCount + read));
                }

                buffer.AsSpan(0, read).CopyTo(held.AsSpan(heldCount));
                heldCount += read;

                // Interim answers (100 Continue) pass, or a client that waits for one would never send its body; the
                // first final answer shows that the server has acted on the request, and is lost with the connection.
                while (heldCount >= "HTTP/1.1 100".Length)
                {
                    if (held[9] != (byte)'1')
                    {
                        CountFault();
                        connection.End(reset: true);
                        return;
                    }

                    int end = held.AsSpan(0, heldCount).IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        break;
                    }

                    await SendAllAsync(client, held.AsMemory(0, end + 4), token);
                    held.AsSpan(end + 4, heldCount - end - 4).CopyTo(held);
                    heldCount -= end + 4;
                }

                continue;
            }

            if (fault.Mode == FaultMode.Delay)
            {
                await Task.Delay(fault.Delay, token);
            }

            await SendAllAsync(client, buffer.AsMemory(0, read), token);
        }
    }

    /// <summary>Reads one request's head, answers it with the fault's error status, and closes once the client is done.</summary>
    private async Task AnswerAsync(Connection connection)
    {
        Socket client = connection.Client;
        CancellationToken token = connection.Token;
        byte[] buffer = new byte[ChunkSize];
        int filled = 0;
        while (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) < 0)
        {
            if (filled == buffer.Length)
            {
                return; // no request head fits: not HTTP
            }

            int read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, token);
            if (read == 0)
            {
                return;
            }

            filled += read;
        }

        bool isHead = buffer.AsSpan(0, filled).StartsWith("HEAD "u8);
        await SendAllAsync(client, ErrorResponse(connection.Fault.Status, isHead), token);
        CountFault();
        client.Shutdown(SocketShutdown.Send);

        // Whatever the client still sends (the body) is read and dropped until it closes: closing with unread data
        // would reset the connection, and the client might see the reset instead of the answer.
        await DiscardAsync(client, token);
    }

    private static byte[] ErrorResponse(int status, bool isHead)
    {
        (string reason, string code, string message) = status switch
        {
            500 => ("Internal Server Error", "InternalError", "We encountered an internal error. Please try again."),
            503 => ("Slow Down", "SlowDown", "Please reduce your request rate."),
            _ => ("Error", "FaultProxyError", "Injected by the test's fault proxy."),
        };
        string body =
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>"
            + "<RequestId>faultproxy</RequestId><HostId>faultproxy</HostId></Error>";
        string head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nx-amz-request-id: faultproxy\r\nConnection: close\r\n\r\n");
        return Encoding.UTF8.GetBytes(isHead ? head : head + body); // an answer to HEAD has no body
    }

    private static async Task DiscardAsync(Socket socket, CancellationToken token)
    {
        byte[] buffer = new byte[ChunkSize];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, token) > 0)
        {
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None, token)..];
        }
    }

    private void CountFault() => Interlocked.Increment(ref _faults);

    /// <summary>The ways a connection ends under the proxy: reset by either side or by a fault, or the proxy stopping.</summary>
    private static bool IsConnectionEnd(Exception exception) =>
        exception is SocketException or ObjectDisposedException or OperationCanceledException or IOException;

    /// <summary>One fault setting; <paramref name="Generation"/> counts the changes, so older connections can be told apart.</summary>
    private sealed record Fault(
        FaultMode Mode, int Generation, int ResetAfterBytes = 0, TimeSpan Delay = default, int Status = 0, Func<string, bool>? DropWhen = null);

    /// <summary>
    /// Finds where each request starts in what a client sends on one connection, from the request heads and their
    /// <c>Content-Length</c>. A chunked body has no length up front: the requests after it go unseen (the SDK sends
    /// its in-memory bodies with a length).
    /// </summary>
    private sealed class RequestFraming
    {
        private readonly List<byte> _head = [];
        private long _bodyLeft;

        /// <summary>Reads <paramref name="data"/>, calling <paramref name="onRequest"/> with each request line once its head is complete.</summary>
        public void Feed(ReadOnlySpan<byte> data, Action<string> onRequest)
        {
            while (!data.IsEmpty)
            {
                if (_bodyLeft > 0)
                {
                    int skip = (int)Math.Min(_bodyLeft, data.Length);
                    _bodyLeft -= skip;
                    data = data[skip..];
                    continue;
                }

                int before = _head.Count;
                _head.AddRange(data);
                int end = CollectionsMarshal.AsSpan(_head).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    return;
                }

                string head = Encoding.ASCII.GetString(CollectionsMarshal.AsSpan(_head)[..end]);
                data = data[(end + 4 - before)..];
                _head.Clear();
                string[] lines = head.Split("\r\n");
                _bodyLeft = lines.Any(l => l.StartsWith("transfer-encoding:", StringComparison.OrdinalIgnoreCase))
                    ? long.MaxValue
                    : lines.Where(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
                        .Select(l => long.Parse(l["content-length:".Length..].Trim(), CultureInfo.InvariantCulture))
                        .FirstOrDefault();
                onRequest(lines[0]);
            }
        }
    }

    /// <summary>One accepted connection, the server connection made for it, and the fault it runs under.</summary>
    private sealed class Connection(Socket client, Fault fault)
    {
        private readonly CancellationTokenSource _ended = new();
        private Socket? _server;
        private string? _requestSent;
        private int _endedFlag;

        public Socket Client { get; } = client;

        public Fault Fault { get; } = fault;

        public Socket? Server => Volatile.Read(ref _server);

        /// <summary>Cancelled once the connection ends, so that a pending delay ends with it (never disposed: it has no timer).</summary>
        public CancellationToken Token => _ended.Token;

        /// <summary>Notes the request line of a request sent to the server, whose answer comes next.</summary>
        public void RequestSent(string requestLine) => Volatile.Write(ref _requestSent, requestLine);

        /// <summary>The request line noted since the last call, if any.</summary>
        public string? TakeRequestSent() => Interlocked.Exchange(ref _requestSent, null);

        /// <summary>Adds the server side; ends it at once if the connection ended meanwhile.</summary>
        public void AttachServer(Socket server)
        {
            // Both sides are full fences: either End sees the server socket, or this sees that End ran.
            _ = Interlocked.Exchange(ref _server, server);
            if (Volatile.Read(ref _endedFlag) != 0)
            {
                Close(server, reset: true);
            }
        }

        /// <summary>Closes both sides, once: with a reset (RST, no lingering) or a normal close.</summary>
        public void End(bool reset)
        {
            if (Interlocked.Exchange(ref _endedFlag, 1) != 0)
            {
                return;
            }

            _ended.Cancel();
            Close(Client, reset);
            if (Volatile.Read(ref _server) is { } server)
            {
                Close(server, reset);
            }
        }

        private static void Close(Socket socket, bool reset)
        {
            if (reset)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                    // Already closed: nothing to reset.
                }
            }

            socket.Dispose();
        }
    }
}
