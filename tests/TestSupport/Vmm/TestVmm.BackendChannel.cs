using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.TestSupport.Vmm;

// The front-end's end of the backend channel: SHMEM_MAP/UNMAP into the host-visible window.
public sealed partial class TestVmm
{
    private void OpenBackendChannel()
    {
        var (ours, theirs) = UnixSocket.Pair();
        using (theirs)
        {
            try
            {
                Request(VhostUserRequest.SetBackendReqFd, ReadOnlySpan<byte>.Empty, [theirs], needReply: Has(VhostUserProtocolFeatures.ReplyAck));
            }
            catch
            {
                ours.Dispose();
                throw;
            }
        }
        _backendSocket = ours;
        _backendThread = new Thread(ServeBackendChannel) { IsBackground = true, Name = "testvmm backend channel" };
        _backendThread.Start();
    }

    private void ServeBackendChannel()
    {
        var socket = _backendSocket!;
        var reader = new VhostUserReader(socket);
        var writer = new VhostUserWriter(socket);
        try
        {
            while (reader.TryReadMessage())
            {
                var header = reader.Header;
                bool changed = false;
                long result;
                switch ((VhostUserBackendRequest)header.Request)
                {
                    case VhostUserBackendRequest.ShmemMap when reader.Payload.Length == ShmemMapPayload.Size && reader.FdCount == 1 && Window is not null:
                    {
                        var map = reader.ReadShmemMap();
                        var fd = reader.TakeFd(0);
                        bool refuse = RefuseShmemMap;
                        string? error = refuse ? Reject(fd, "refused by the test")
                            : map.ShmId == Window.ShmId
                            ? Window.Map(map.ShmOffset, fd, map.FdOffset, map.Length, (map.Flags & 2) != 0)
                            : Reject(fd, $"unknown shm id {map.ShmId}");
                        result = error is null ? 0 : refuse ? -12 : -22; // -ENOMEM / -EINVAL
                        changed = error is null;
                        Interlocked.Increment(ref _shmemMaps);
                        break;
                    }
                    case VhostUserBackendRequest.ShmemUnmap when reader.Payload.Length == ShmemMapPayload.Size && reader.FdCount == 0 && Window is not null:
                    {
                        var map = reader.ReadShmemMap();
                        var removed = map.ShmId == Window.ShmId ? Window.Unmap(map.ShmOffset, map.Length) : null;
                        result = removed is null ? -22 : 0;
                        changed = removed is not null;
                        Interlocked.Increment(ref _shmemUnmaps);
                        // Re-send the table without it first: the fd stays valid until the back-end has dropped it.
                        if (changed)
                        {
                            lock (_frontEnd) AnswerLocked(writer, header, 0, changed);
                            removed!.Fd.Dispose();
                            reader.ReleaseMessage();
                            continue;
                        }
                        break;
                    }
                    default:
                        result = -95; // EOPNOTSUPP, or a malformed request
                        break;
                }
                // QEMU is one thread: it answers, then blocks on the SET_MEM_TABLE reply, reading nothing else.
                lock (_frontEnd) AnswerLocked(writer, header, result, changed);
                reader.ReleaseMessage();
            }
        }
        catch (Exception e) when (e is VhostUserProtocolException or LibcException or IOException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
            BackendChannelError = e;
        }
        finally
        {
            reader.ReleaseMessage();
        }
    }

    /// <summary>Reply and, when the window changed, re-send the memory table, in the configured order.</summary>
    private void AnswerLocked(VhostUserWriter writer, VhostUserHeader header, long result, bool changed)
    {
        bool resend = changed && Options.ResendMemTableOnShmemMap;
        if (resend && Options.MemTableBeforeShmemReply) ResendMemTableLocked();
        if (header.NeedsReply) writer.ReplyU64(header.Request, (ulong)result);
        if (resend && !Options.MemTableBeforeShmemReply) ResendMemTableLocked();
    }

    private void ResendMemTableLocked()
    {
        SendMemTableLocked();
        Interlocked.Increment(ref _memTableResends);
    }

    /// <summary>
    /// Fault injection: answer every SHMEM_MAP from now on with a failure (-ENOMEM) and map nothing, as a
    /// hypervisor out of address space would. Settable mid-run; SHMEM_UNMAP is still served.
    /// </summary>
    public bool RefuseShmemMap
    {
        get => Volatile.Read(ref _refuseShmemMap);
        set => Volatile.Write(ref _refuseShmemMap, value);
    }
    private bool _refuseShmemMap;

    /// <summary>The error that stopped the backend-channel server, if any (tests assert it is null).</summary>
    public Exception? BackendChannelError { get; private set; }

    private static string Reject(FdHandle fd, string why)
    {
        fd.Dispose();
        return why;
    }
}
