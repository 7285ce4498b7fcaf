using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>
/// An in-test hypervisor: connects to a vhost-user back-end's socket and plays QEMU 11.1's generic
/// vhost-user device (VHOST-USER.md §4 message order) with memfd-backed guest RAM in several regions,
/// split rings it drives as a guest driver would, kick/call eventfds, and a backend channel that serves
/// SHMEM_MAP/UNMAP into a host-visible window (and re-sends SET_MEM_TABLE afterwards, as QEMU does).
/// <para>Typical use: <c>using var vmm = TestVmm.Connect(path);</c> then
/// <c>vmm.PutChain(0, [request], [64]); vmm.Kick(0); var used = vmm.WaitUsed(0);</c>.</para>
/// Every wait is bounded by <see cref="TestVmmOptions.Timeout"/>; Dispose closes every fd and mapping.
/// </summary>
public sealed partial class TestVmm : IDisposable
{
    private readonly FdHandle _socket;
    private readonly VhostUserReader _reader;
    private readonly VhostUserWriter _writer;
    private readonly Lock _frontEnd = new();
    private readonly TestRing[] _rings;
    private FdHandle? _backendSocket;
    private Thread? _backendThread;
    private int _disposed;

    private TestVmm(FdHandle socket, TestVmmOptions options)
    {
        Options = options;
        _socket = socket;
        _reader = new VhostUserReader(socket);
        _writer = new VhostUserWriter(socket);
        UnixSocket.SetReceiveTimeout(socket, options.Timeout);
        Ram = new GuestRam(options.Ram);
        _rings = new TestRing[options.QueueCount];
        for (int i = 0; i < _rings.Length; i++) _rings[i] = new TestRing(i, Ram, options.QueueSize);
    }

    /// <summary>Connect to <paramref name="socketPath"/> and (unless disabled) run the whole handshake up to live rings.</summary>
    public static TestVmm Connect(string socketPath, TestVmmOptions? options = null)
    {
        options ??= new TestVmmOptions();
        return FromSocket(UnixSocket.Connect(socketPath), options);
    }

    /// <summary>Play the front-end on an already-connected socket (owned from now on), e.g. one end of a socketpair.</summary>
    public static TestVmm FromSocket(FdHandle socket, TestVmmOptions? options = null)
    {
        options ??= new TestVmmOptions();
        var vmm = new TestVmm(socket, options);
        try
        {
            if (options.Handshake)
            {
                vmm.Realize();
                vmm.DriverOk();
            }
            return vmm;
        }
        catch
        {
            vmm.Dispose();
            throw;
        }
    }

    public TestVmmOptions Options { get; }

    /// <summary>The guest's RAM (allocate with <c>Ram.Allocator</c>, read/write by guest-physical address).</summary>
    public GuestRam Ram { get; }

    /// <summary>Ring <paramref name="queue"/>'s driver side.</summary>
    public TestRing Ring(int queue) => _rings[queue];

    /// <summary>GET_FEATURES answer.</summary>
    public ulong OfferedFeatures { get; private set; }

    /// <summary>What SET_FEATURES acked.</summary>
    public ulong AckedFeatures { get; private set; }

    /// <summary>GET_PROTOCOL_FEATURES answer.</summary>
    public ulong OfferedProtocolFeatures { get; private set; }

    /// <summary>What SET_PROTOCOL_FEATURES acked.</summary>
    public ulong AckedProtocolFeatures { get; private set; }

    /// <summary>GET_SHMEM_CONFIG answer (index = shm id); empty when SHMEM was not negotiated.</summary>
    public IReadOnlyList<ulong> ShmemSizes { get; private set; } = [];

    /// <summary>Config space read at driver OK.</summary>
    public byte[] Config { get; private set; } = [];

    /// <summary>The host-visible window (shm id 1) when the back-end offers one.</summary>
    public HostVisibleWindow? Window { get; private set; }

    /// <summary>SHMEM_MAP / SHMEM_UNMAP requests served so far, and memory tables re-sent after them.</summary>
    public int ShmemMaps => Volatile.Read(ref _shmemMaps);
    public int ShmemUnmaps => Volatile.Read(ref _shmemUnmaps);
    public int MemTableResends => Volatile.Read(ref _memTableResends);
    private int _shmemMaps, _shmemUnmaps, _memTableResends;

    // ---- guest conveniences ----

    /// <summary>Put a chain on <paramref name="queue"/> (see <see cref="TestRing.PutChain"/>); returns its token.</summary>
    public ushort PutChain(int queue, IReadOnlyList<byte[]> readable, IReadOnlyList<uint> writableSizes, bool indirect = false) =>
        _rings[queue].PutChain(readable, writableSizes, indirect);

    /// <summary>Kick <paramref name="queue"/>.</summary>
    public void Kick(int queue) => _rings[queue].KickDevice();

    /// <summary>Wait for the next used chain on <paramref name="queue"/> (default timeout: options).</summary>
    public UsedChain WaitUsed(int queue, TimeSpan? timeout = null) => _rings[queue].WaitUsed(timeout ?? Options.Timeout);

    // ---- raw protocol ----

    /// <summary>Send bytes as they are (a malformed header, a torn message).</summary>
    public bool SendRawBytes(ReadOnlySpan<byte> bytes)
    {
        lock (_frontEnd) return SocketIo.SendAll(_socket, bytes, []);
    }

    /// <summary>Send one message; nothing is read back.</summary>
    public bool SendRaw(uint request, uint flags, ReadOnlySpan<byte> payload, IReadOnlyList<SafeHandle>? fds = null)
    {
        lock (_frontEnd) return SendLocked(request, flags, payload, fds);
    }

    /// <summary>
    /// Send a request and, if <paramref name="needReply"/> or it always has one, return its reply. With
    /// <see cref="TestVmmOptions.AckEveryRequest"/> (default) and REPLY_ACK negotiated, every other request
    /// also waits for its ack, and a non-zero status throws (with an explicit <paramref name="needReply"/>
    /// the status is returned instead).
    /// </summary>
    public VhostUserReply? Request(VhostUserRequest request, ReadOnlySpan<byte> payload = default, IReadOnlyList<SafeHandle>? fds = null, bool needReply = false)
    {
        lock (_frontEnd)
        {
            // With REPLY_ACK every request can be made synchronous: the test then sees its effect at once.
            bool autoAck = !needReply && !HasReply(request) && Options.AckEveryRequest
                && (AckedProtocolFeatures & (ulong)VhostUserProtocolFeatures.ReplyAck) != 0;
            needReply |= autoAck;
            if (!SendLocked((uint)request, needReply ? VhostUserHeader.NeedReplyFlag : 0, payload, fds))
                throw new IOException($"back-end closed the connection before {request}");
            if (!needReply && !HasReply(request)) return null;
            var reply = ReadReplyLocked((uint)request);
            if (autoAck && reply.U64 != 0)
                throw new InvalidOperationException($"{request} failed with status {reply.U64}");
            return reply;
        }
    }

    /// <summary>Request with a struct payload.</summary>
    public VhostUserReply? Request<T>(VhostUserRequest request, in T payload, IReadOnlyList<SafeHandle>? fds = null, bool needReply = false) where T : unmanaged =>
        Request(request, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds, needReply);

    /// <summary>Request with NEED_REPLY; throws unless the back-end acks with 0.</summary>
    public void RequestAcked<T>(VhostUserRequest request, in T payload, IReadOnlyList<SafeHandle>? fds = null) where T : unmanaged
    {
        ulong status = Request(request, in payload, fds, needReply: true)!.U64;
        if (status != 0) throw new InvalidOperationException($"{request} failed with status {status}");
    }

    /// <summary>Read the next message from the back-end, or null if none arrives within <paramref name="timeout"/>.</summary>
    public VhostUserReply? TryReadMessage(TimeSpan timeout)
    {
        lock (_frontEnd)
        {
            if (!Poller.WaitReadable(_socket.Fd, (int)timeout.TotalMilliseconds)) return null;
            return ReadMessageLocked();
        }
    }

    /// <summary>True when the back-end has closed the connection (EOF within <paramref name="timeout"/>).</summary>
    public bool WaitBackendClosed(TimeSpan timeout)
    {
        lock (_frontEnd)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (true)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || !Poller.WaitReadable(_socket.Fd, (int)left)) return false;
                try
                {
                    if (!_reader.TryReadMessage()) return true;
                    _reader.ReleaseMessage();
                }
                catch (VhostUserProtocolException)
                {
                    return true; // torn by the close
                }
            }
        }
    }

    private static bool HasReply(VhostUserRequest r) => r is VhostUserRequest.GetFeatures or VhostUserRequest.GetProtocolFeatures
        or VhostUserRequest.GetVringBase or VhostUserRequest.GetQueueNum or VhostUserRequest.GetConfig
        or VhostUserRequest.GetMaxMemSlots or VhostUserRequest.GetStatus or VhostUserRequest.GetShmemConfig;

    private bool SendLocked(uint request, uint flags, ReadOnlySpan<byte> payload, IReadOnlyList<SafeHandle>? fds)
    {
        Span<SafeHandleRef> refs = stackalloc SafeHandleRef[fds?.Count ?? 0];
        for (int i = 0; i < refs.Length; i++) refs[i] = SafeHandleRef.Of(fds![i]);
        return _writer.Send(request, flags, payload, refs);
    }

    private VhostUserReply ReadReplyLocked(uint request)
    {
        var reply = ReadMessageLocked() ?? throw new IOException($"back-end closed the connection instead of answering request {request}");
        if (!reply.Header.IsReply || reply.Header.Request != request)
            throw new InvalidDataException($"expected a reply to {request}, got request {reply.Header.Request} flags 0x{reply.Header.Flags:x}");
        return reply;
    }

    private VhostUserReply? ReadMessageLocked()
    {
        try
        {
            if (!_reader.TryReadMessage()) return null;
            return new VhostUserReply(_reader.Header, _reader.Payload.ToArray());
        }
        catch (LibcException e) when (e.Errno == Tmds.Linux.LibC.EAGAIN)
        {
            throw new TimeoutException($"no answer from the back-end within {Options.Timeout.TotalMilliseconds} ms");
        }
        finally
        {
            _reader.ReleaseMessage();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        UnixSocket.Shutdown(_socket);
        if (_backendSocket is { } backend)
        {
            UnixSocket.Shutdown(backend);
            _backendThread?.Join(Options.Timeout);
            backend.Dispose();
        }
        _socket.Dispose();
        foreach (var ring in _rings) ring?.Dispose();
        Window?.Dispose();
        Ram.Dispose();
    }
}
