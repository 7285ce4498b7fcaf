using Tmds.Linux;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.Interop;

/// <summary>
/// Whole-buffer send/receive on a stream socket with SCM_RIGHTS fd passing. Received fds are adopted
/// into <see cref="FdHandle"/>s immediately (MSG_CMSG_CLOEXEC), so none can leak, even on error.
/// </summary>
public static class SocketIo
{
    /// <summary>Most fds one message may carry (vhost-user: 8 memory regions).</summary>
    public const int MaxFds = 8;

    // The glibc x86-64/arm64 cmsghdr: size_t len, int level, int type = 16 bytes, data 8-aligned.
    // Computed here because Tmds.LibC 0.5's CMSG_LEN pads the data (CMSG_LEN(4) == 24), which makes the
    // kernel read a second, bogus fd from the padding.
    private const int CmsgHeaderSize = 16;

    private static int ControlSpace(int fdCount) => (CmsgHeaderSize + sizeof(int) * fdCount + 7) & ~7;

    /// <summary>Send all of <paramref name="data"/>; <paramref name="fds"/> ride on the first chunk. False: peer gone.</summary>
    public static unsafe bool SendAll(FdHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeHandleRef> fds)
    {
        if (fds.Length > MaxFds) throw new ArgumentOutOfRangeException(nameof(fds), fds.Length, "too many fds");
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int controlLen = fds.Length > 0 ? ControlSpace(fds.Length) : 0;
            byte* control = stackalloc byte[Math.Max(controlLen, 1)];
            int sent = 0;
            fixed (byte* p = data)
            {
                while (sent < data.Length)
                {
                    var iov = new iovec { iov_base = p + sent, iov_len = data.Length - sent };
                    var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
                    if (sent == 0 && fds.Length > 0)
                    {
                        new Span<byte>(control, controlLen).Clear();
                        msg.msg_control = control;
                        msg.msg_controllen = controlLen;
                        var cmsg = (cmsghdr*)control;
                        cmsg->cmsg_level = LibC.SOL_SOCKET;
                        cmsg->cmsg_type = LibC.SCM_RIGHTS;
                        cmsg->cmsg_len = CmsgHeaderSize + sizeof(int) * fds.Length;
                        int* fdArea = (int*)(control + CmsgHeaderSize);
                        for (int i = 0; i < fds.Length; i++) fdArea[i] = fds[i].Fd;
                    }
                    long n = LibC.sendmsg(socket.Fd, &msg, LibC.MSG_NOSIGNAL);
                    if (n < 0)
                    {
                        int errno = LibC.errno;
                        if (errno == LibC.EINTR) continue;
                        if (errno == LibC.EPIPE || errno == LibC.ECONNRESET) return false;
                        throw new LibcException("sendmsg", errno);
                    }
                    sent += (int)n;
                }
            }
            return true;
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>
    /// Receive exactly <paramref name="buffer"/>.Length bytes, adopting any fds into <paramref name="receivedFds"/>.
    /// Returns false on orderly EOF before the first byte; throws <see cref="EndOfStreamException"/> on EOF
    /// mid-buffer and <see cref="LibcException"/> on errors (EAGAIN = receive timeout).
    /// </summary>
    public static unsafe bool ReceiveExactly(FdHandle socket, Span<byte> buffer, List<FdHandle> receivedFds)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int controlLen = ControlSpace(MaxFds);
            byte* control = stackalloc byte[controlLen];
            int got = 0;
            fixed (byte* p = buffer)
            {
                while (got < buffer.Length)
                {
                    var iov = new iovec { iov_base = p + got, iov_len = buffer.Length - got };
                    var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlLen };
                    long n = LibC.recvmsg(socket.Fd, &msg, LibC.MSG_CMSG_CLOEXEC);
                    if (n < 0)
                    {
                        int errno = LibC.errno;
                        if (errno == LibC.EINTR) continue;
                        if (errno == LibC.ECONNRESET) throw new EndOfStreamException("connection reset");
                        throw new LibcException("recvmsg", errno);
                    }
                    AdoptFds(&msg, receivedFds);
                    if ((msg.msg_flags & LibC.MSG_CTRUNC) != 0)
                        throw new InvalidDataException("more fds than a message may carry (control data truncated)");
                    if (n == 0)
                    {
                        if (got == 0) return false;
                        throw new EndOfStreamException($"peer closed after {got} of {buffer.Length} bytes");
                    }
                    got += (int)n;
                }
            }
            return true;
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    private static unsafe void AdoptFds(msghdr* msg, List<FdHandle> receivedFds)
    {
        // Walk the control area by hand with explicit bounds (cmsghdr: u64 len, i32 level, i32 type; data
        // 8-aligned), so a malformed length can never make us adopt numbers that are not received fds.
        byte* control = (byte*)msg->msg_control;
        long controlLen = (long)(uint)msg->msg_controllen;
        int headerLen = CmsgHeaderSize;
        long offset = 0;
        while (control != null && offset + headerLen <= controlLen)
        {
            var cmsg = (cmsghdr*)(control + offset);
            long len = (long)(uint)cmsg->cmsg_len;
            if (len < headerLen || offset + len > controlLen) break;
            if (cmsg->cmsg_level == LibC.SOL_SOCKET && cmsg->cmsg_type == LibC.SCM_RIGHTS)
            {
                int count = (int)((len - headerLen) / sizeof(int));
                int* fdArea = (int*)(control + offset + headerLen);
                for (int i = 0; i < count; i++) receivedFds.Add(FdHandle.Adopt(fdArea[i]));
            }
            offset += (len + 7) & ~7L;
        }
    }
}

/// <summary>An fd to pass in a message (the caller keeps ownership; the fd must stay open during the send).</summary>
public readonly record struct SafeHandleRef(int Fd)
{
    public static SafeHandleRef Of(System.Runtime.InteropServices.SafeHandle handle) => new((int)handle.DangerousGetHandle());
}
