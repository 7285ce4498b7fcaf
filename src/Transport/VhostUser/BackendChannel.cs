using System.Runtime.InteropServices;
using Serilog;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// The back-end → front-end channel (SET_BACKEND_REQ_FD). Requests go out with NEED_REPLY from any
/// thread; replies are read by this channel's own thread and complete the waiting task, so the
/// connection's IO thread keeps serving the front-end socket meanwhile (QEMU sends SET_MEM_TABLE before
/// it answers SHMEM_MAP, and blocks on its reply: VHOST-USER.md §5). The front-end answers in order, so
/// pending requests are matched FIFO.
/// </summary>
public sealed class BackendChannel : IBackendChannel, IDisposable
{
    private readonly FdHandle _socket;
    private readonly VhostUserWriter _writer;
    private readonly VhostUserReader _reader;
    private readonly bool _canSendFds;
    private readonly ILogger _log;
    private readonly Lock _sendLock = new();
    private readonly Queue<Pending> _pending = new();
    private readonly Thread _readerThread;
    private bool _closed;

    private sealed record Pending(VhostUserBackendRequest Request, TaskCompletionSource<long> Completion);

    /// <param name="socket">The channel socket; owned by this object from now on.</param>
    /// <param name="canSendFds">BACKEND_SEND_FD was negotiated (needed for SHMEM_MAP).</param>
    public BackendChannel(FdHandle socket, bool canSendFds, ILogger log)
    {
        _socket = socket;
        _writer = new VhostUserWriter(socket);
        _reader = new VhostUserReader(socket);
        _canSendFds = canSendFds;
        _log = log.ForContext<BackendChannel>();
        _readerThread = new Thread(ReadReplies) { IsBackground = true, Name = "vhost-user backend channel" };
        _readerThread.Start();
    }

    /// <summary>Requests sent and not answered yet.</summary>
    public int PendingCount { get { lock (_sendLock) return _pending.Count; } }

    public Task<long> ShmemMapAsync(byte shmId, SafeHandle fd, ulong fdOffset, ulong shmOffset, ulong length, ShmemMapFlags flags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if (!_canSendFds) return Task.FromException<long>(new InvalidOperationException("the front-end did not accept BACKEND_SEND_FD: cannot pass a memory fd"));
        var payload = new ShmemMapPayload { ShmId = shmId, FdOffset = fdOffset, ShmOffset = shmOffset, Length = length, Flags = (ulong)flags };
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            return Send(VhostUserBackendRequest.ShmemMap, payload, [SafeHandleRef.Of(fd)], cancellationToken);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    public Task<long> ShmemUnmapAsync(byte shmId, ulong shmOffset, ulong length, CancellationToken cancellationToken = default)
    {
        var payload = new ShmemMapPayload { ShmId = shmId, ShmOffset = shmOffset, Length = length };
        return Send(VhostUserBackendRequest.ShmemUnmap, payload, [], cancellationToken);
    }

    private Task<long> Send(VhostUserBackendRequest request, in ShmemMapPayload payload, ReadOnlySpan<SafeHandleRef> fds, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sendLock)
        {
            if (_closed) return Task.FromException<long>(new IOException("backend channel closed"));
            // Enqueue before sending: the reply may arrive before Send returns.
            _pending.Enqueue(new Pending(request, completion));
            if (!_writer.Send((uint)request, VhostUserHeader.NeedReplyFlag, in payload, fds))
            {
                _closed = true;
                FailAllLocked(new IOException("front-end closed the backend channel"));
                return completion.Task;
            }
        }
        _log.Debug("Backend request {Request} shm {ShmId} offset 0x{ShmOffset:x} length 0x{Length:x} sent", request, payload.ShmId, payload.ShmOffset, payload.Length);
        // A cancelled wait leaves the entry queued so the eventual reply still pairs with its request.
        if (cancellationToken.CanBeCanceled)
            cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken));
        return completion.Task;
    }

    private void ReadReplies()
    {
        Exception reason = new IOException("front-end closed the backend channel");
        try
        {
            while (_reader.TryReadMessage())
            {
                var header = _reader.Header;
                Pending? pending;
                lock (_sendLock) _pending.TryDequeue(out pending);
                if (pending is null || !header.IsReply || header.Request != (uint)pending.Request || _reader.Payload.Length != 8)
                {
                    _log.Error("Unexpected message on the backend channel: request {Request} flags 0x{Flags:x} size {Size} (waiting for {Expected}); channel closed",
                        header.Request, header.Flags, header.PayloadSize, pending?.Request);
                    pending?.Completion.TrySetException(new VhostUserProtocolException("unexpected backend channel reply", fatal: true));
                    reason = new VhostUserProtocolException("backend channel out of step", fatal: true);
                    break;
                }
                long result = (long)_reader.ReadU64();
                _reader.ReleaseMessage();
                if (result != 0) _log.Warning("Front-end answered {Request} with {Result}", pending.Request, result);
                pending.Completion.TrySetResult(result);
            }
        }
        catch (Exception e) when (e is VhostUserProtocolException or LibcException or ObjectDisposedException)
        {
            reason = e;
            if (!Volatile.Read(ref _closed)) _log.Warning(e, "Backend channel reader stopped");
        }
        finally
        {
            _reader.ReleaseMessage();
            lock (_sendLock)
            {
                _closed = true;
                FailAllLocked(reason);
            }
        }
    }

    private void FailAllLocked(Exception reason)
    {
        while (_pending.TryDequeue(out var p)) p.Completion.TrySetException(reason);
    }

    public void Dispose()
    {
        lock (_sendLock) _closed = true;
        UnixSocket.Shutdown(_socket);
        if (!_readerThread.Join(TimeSpan.FromSeconds(5)))
            _log.Error("Backend channel reader did not stop within 5 s");
        _socket.Dispose();
    }
}
