using System.Net.Sockets;
using System.Text;
using Serilog;

namespace VhsaKmt.Daemon;

/// <summary>
/// sd_notify(3) for Type=notify units: one datagram per state change ("READY=1" once the service
/// listens, "STOPPING=1" when shutdown begins) to the socket named by NOTIFY_SOCKET (a path, or an
/// abstract name when it starts with '@'). Without NOTIFY_SOCKET there is nothing to notify.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    public const string EnvironmentVariable = "NOTIFY_SOCKET";

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _target;
    private readonly ILogger _log;

    private SystemdNotifier(string address, ILogger log)
    {
        // systemd spells an abstract socket with a leading '@'; on the wire it is a leading NUL.
        _target = new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _log = log;
    }

    /// <summary>The notifier for this process's NOTIFY_SOCKET, or null when not started by systemd.
    /// The variable is removed so child processes (per-VM workers) do not notify in our name.</summary>
    public static SystemdNotifier? FromEnvironment(ILogger log)
    {
        var address = Environment.GetEnvironmentVariable(EnvironmentVariable);
        Environment.SetEnvironmentVariable(EnvironmentVariable, null);
        return FromAddress(address, log);
    }

    /// <summary>The notifier for a NOTIFY_SOCKET value, or null if it is empty or malformed.</summary>
    public static SystemdNotifier? FromAddress(string? address, ILogger log)
    {
        if (string.IsNullOrEmpty(address))
            return null;
        if (address[0] != '/' && address[0] != '@')
        {
            log.Warning("Ignoring {Variable}={Address}: neither a path nor an abstract socket name", EnvironmentVariable, address);
            return null;
        }
        return new SystemdNotifier(address, log);
    }

    /// <summary>Sends <paramref name="state"/> (newline-separated KEY=VALUE lines). A failure is logged,
    /// never thrown: the service runs on even if the service manager stopped listening.</summary>
    public bool Notify(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _target);
            return true;
        }
        catch (SocketException e)
        {
            _log.Warning("sd_notify {State} failed: {Error}", state.Replace('\n', ' '), e.SocketErrorCode);
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
