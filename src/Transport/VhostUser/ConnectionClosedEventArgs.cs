namespace VhsaKmt.Transport.VhostUser;

/// <summary>Why a connection ended: the front-end hung up, broke the protocol, or we stopped it.</summary>
public enum ConnectionCloseReason { FrontEndClosed, ProtocolError, HostError, Stopped }

public sealed class ConnectionClosedEventArgs(string vmId, ConnectionCloseReason reason, Exception? error) : EventArgs
{
    public string VmId { get; } = vmId;
    public ConnectionCloseReason Reason { get; } = reason;
    public Exception? Error { get; } = error;
}
