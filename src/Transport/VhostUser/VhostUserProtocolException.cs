namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// The peer broke the vhost-user protocol. <see cref="Fatal"/>: the byte stream can no longer be trusted
/// (bad framing, version), so the connection is closed; otherwise the request is answered with a failure.
/// </summary>
public sealed class VhostUserProtocolException : Exception
{
    public VhostUserProtocolException(string message, bool fatal) : base(message) => Fatal = fatal;

    public bool Fatal { get; }
}
