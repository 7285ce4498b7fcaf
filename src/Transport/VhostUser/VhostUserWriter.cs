using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// Writes vhost-user messages (header + payload + optional fds) to one socket from one reused buffer.
/// Thread-safe: a lock keeps messages whole when several threads send on the same socket.
/// </summary>
public sealed class VhostUserWriter
{
    private readonly FdHandle _socket;
    private readonly byte[] _buffer = new byte[VhostUserHeader.Size + ShmemConfigWire.Size];
    private readonly Lock _lock = new();

    public VhostUserWriter(FdHandle socket) => _socket = socket;

    /// <summary>Send a message. False when the peer is gone.</summary>
    public bool Send(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandleRef> fds = default)
    {
        if (payload.Length > _buffer.Length - VhostUserHeader.Size)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, "payload too large");
        lock (_lock)
        {
            var header = new VhostUserHeader { Request = request, Flags = flags | VhostUserHeader.Version, PayloadSize = (uint)payload.Length };
            MemoryMarshal.Write(_buffer, in header);
            payload.CopyTo(_buffer.AsSpan(VhostUserHeader.Size));
            return SocketIo.SendAll(_socket, _buffer.AsSpan(0, VhostUserHeader.Size + payload.Length), fds);
        }
    }

    /// <summary>Send a struct payload.</summary>
    public bool Send<T>(uint request, uint flags, in T payload, ReadOnlySpan<SafeHandleRef> fds = default) where T : unmanaged =>
        Send(request, flags, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds);

    /// <summary>A reply carrying one u64 (feature words, REPLY_ACK status, GET_VRING_BASE's num is a state).</summary>
    public bool ReplyU64(uint request, ulong value) => Send(request, VhostUserHeader.ReplyFlag, in value);
}
