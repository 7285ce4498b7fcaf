using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VhsaKmt.Actors.Admin;

namespace VhsaKmt.Daemon.Cli;

/// <summary>One connection to the daemon's admin socket: a request line out, an answer line back (bounded wait).</summary>
public sealed class AdminClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly TimeSpan _timeout;

    private AdminClient(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _timeout = timeout;
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(stream, Encoding.UTF8);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
    }

    public static AdminClient Connect(string path, TimeSpan timeout)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            s.Dispose();
            throw;
        }
        return new AdminClient(s, timeout);
    }

    /// <summary>Send <paramref name="request"/> (a JSON object) and return the answer's raw line and its parsed form.</summary>
    public (string Line, AdminResponse Response) Send(object request)
    {
        using var cts = new CancellationTokenSource(_timeout);
        _writer.WriteLine(JsonSerializer.Serialize(request, AdminJson.Options));
        var line = _reader.ReadLineAsync(cts.Token).AsTask().GetAwaiter().GetResult()
                   ?? throw new IOException("the daemon closed the admin connection without answering");
        var response = JsonSerializer.Deserialize<AdminResponse>(line, AdminJson.Options)
                       ?? throw new IOException("the daemon answered null");
        return (line, response);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _writer.Dispose();
        _socket.Dispose();
    }
}
