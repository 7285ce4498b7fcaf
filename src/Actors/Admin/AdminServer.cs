using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Serilog;

namespace VhsaKmt.Actors.Admin;

/// <summary>
/// The admin Unix socket (mode 0600): one JSON request per line, one JSON answer per line. Each connection is served
/// on its own task; requests are answered from the actors through <see cref="AdminQueries"/>. Disposing closes the
/// listener and every connection and removes the socket file.
/// </summary>
public sealed class AdminServer : IDisposable
{
    private readonly Socket _listener;
    private readonly AdminQueries _queries;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Socket> _clients = new();
    private readonly Task _accept;

    private AdminServer(string path, Socket listener, AdminQueries queries, ILogger log)
    {
        Path = path;
        _listener = listener;
        _queries = queries;
        _log = log;
        _accept = Task.Run(AcceptLoopAsync);
    }

    public string Path { get; }

    public static AdminServer Start(string path, AdminQueries queries, ILogger log)
    {
        RemoveStale(path);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(new UnixDomainSocketEndPoint(path));
            // Only the daemon's user may ask for guest process names or kill contexts.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            s.Listen(16);
        }
        catch (Exception)
        {
            s.Dispose();
            throw;
        }
        log.Information("admin socket listening on {AdminSocket}", path);
        return new AdminServer(path, s, queries, log);
    }

    /// <summary>A socket file nobody answers on is left from a killed daemon: remove it. A live one is an error.</summary>
    private static void RemoveStale(string path)
    {
        if (!File.Exists(path)) return;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }
        throw new IOException($"admin socket {path} is in use by another process");
    }

    private async Task AcceptLoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_cts.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return; // closed by Dispose
            }
            lock (_clients) _clients.Add(client);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
            while (!_cts.IsCancellationRequested)
            {
                var line = await ReadBoundedLineAsync(reader, _cts.Token);
                if (line is null) return;
                var response = await AnswerAsync(line);
                await writer.WriteLineAsync(JsonSerializer.Serialize(response, AdminJson.Options).AsMemory(), _cts.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _log.Debug("admin connection closed: {Reason}", e.Message);
        }
        finally
        {
            lock (_clients) _clients.Remove(client);
            client.Dispose();
        }
    }

    /// <summary>A line of at most <see cref="AdminRequest.MaxLineLength"/> characters; a longer one closes the connection.</summary>
    private static async Task<string?> ReadBoundedLineAsync(StreamReader reader, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var one = new char[1];
        while (true)
        {
            int n = await reader.ReadAsync(one.AsMemory(), ct);
            if (n == 0) return sb.Length > 0 ? sb.ToString() : null;
            if (one[0] == '\n') return sb.ToString();
            if (sb.Length >= AdminRequest.MaxLineLength) throw new IOException($"request line longer than {AdminRequest.MaxLineLength}");
            sb.Append(one[0]);
        }
    }

    public async Task<AdminResponse> AnswerAsync(string line)
    {
        var request = AdminRequest.Parse(line, out var error);
        if (request is null)
        {
            _log.Warning("admin request refused: {Reason}", error);
            return new AdminResponse(false, error);
        }
        try
        {
            switch (request.Cmd)
            {
                case "status": return new AdminResponse(true, Status: await _queries.StatusAsync());
                case "health": return new AdminResponse(true, Health: await _queries.HealthAsync());
                default:
                    var kill = await _queries.KillContextAsync(request.Vm!, request.Ctx);
                    _log.Information("admin kill-context {VmId} {CtxId}: {Message}", request.Vm, request.Ctx, kill.Message);
                    return new AdminResponse(kill.Killed, kill.Killed ? null : kill.Message, Kill: kill);
            }
        }
        catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TaskCanceledException)
        {
            _log.Warning("admin {Cmd}: the actors did not answer in time: {Reason}", request.Cmd, e.Message);
            return new AdminResponse(false, $"{request.Cmd}: the service did not answer in time");
        }
    }

    public void Dispose()
    {
        if (_cts.IsCancellationRequested) return;
        _cts.Cancel();
        _listener.Dispose();
        lock (_clients) foreach (var c in _clients) c.Dispose();
        _accept.Wait(TimeSpan.FromSeconds(5));
        try
        {
            File.Delete(Path);
        }
        catch (IOException e)
        {
            _log.Warning(e, "could not remove the admin socket {AdminSocket}", Path);
        }
        _cts.Dispose();
    }
}
