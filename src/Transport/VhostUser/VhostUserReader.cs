using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// Reads vhost-user messages from one socket: header, payload (into one reused buffer, no allocation per
/// message) and the fds that came with them. Framing faults are fatal <see cref="VhostUserProtocolException"/>s.
/// One reader per socket, one thread at a time. The current message's fds belong to the reader until a
/// handler takes one (<see cref="TakeFd"/>); <see cref="ReleaseMessage"/> closes the rest.
/// </summary>
public sealed partial class VhostUserReader
{
    /// <summary>Largest payload accepted. The biggest legal one we receive is a config or memory table (~270 B),
    /// the biggest reply the GET_SHMEM_CONFIG one (2056 B); more means the stream is garbage.</summary>
    public const int MaxPayload = 4096;

    private readonly FdHandle _socket;
    private readonly byte[] _header = new byte[VhostUserHeader.Size];
    private readonly byte[] _payload = new byte[MaxPayload];
    private readonly List<FdHandle> _fds = new(SocketIo.MaxFds);
    private int _payloadLength;

    public VhostUserReader(FdHandle socket) => _socket = socket;

    /// <summary>The header of the current message.</summary>
    public VhostUserHeader Header { get; private set; }

    /// <summary>The payload of the current message (valid until the next read).</summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, _payloadLength);

    /// <summary>Fds received with the current message that no handler has taken yet.</summary>
    public int FdCount => _fds.Count;

    /// <summary>
    /// Read the next message. False on orderly EOF at a message boundary. Throws fatal
    /// <see cref="VhostUserProtocolException"/> on a torn or oversized message.
    /// </summary>
    public bool TryReadMessage()
    {
        ReleaseMessage();
        try
        {
            if (!SocketIo.ReceiveExactly(_socket, _header, _fds)) return false;
            var header = MemoryMarshal.Read<VhostUserHeader>(_header);
            if ((header.Flags & VhostUserHeader.VersionMask) != VhostUserHeader.Version)
                throw new VhostUserProtocolException($"bad version in flags 0x{header.Flags:x} (request {header.Request})", fatal: true);
            if (header.PayloadSize > MaxPayload)
                throw new VhostUserProtocolException($"payload size {header.PayloadSize} > {MaxPayload} (request {header.Request})", fatal: true);
            Header = header;
            _payloadLength = (int)header.PayloadSize;
            if (_payloadLength > 0 && !SocketIo.ReceiveExactly(_socket, _payload.AsSpan(0, _payloadLength), _fds))
                throw new VhostUserProtocolException("peer closed between header and payload", fatal: true);
            return true;
        }
        catch (EndOfStreamException e)
        {
            throw new VhostUserProtocolException($"torn message: {e.Message}", fatal: true);
        }
        catch (InvalidDataException e)
        {
            throw new VhostUserProtocolException(e.Message, fatal: true);
        }
    }

    /// <summary>Take ownership of fd <paramref name="index"/> of the current message.</summary>
    public FdHandle TakeFd(int index)
    {
        var fd = _fds[index];
        _fds.RemoveAt(index);
        return fd;
    }

    /// <summary>Close fds of the current message nobody took.</summary>
    public void ReleaseMessage()
    {
        foreach (var fd in _fds) fd.Dispose();
        _fds.Clear();
        _payloadLength = 0;
    }
}
