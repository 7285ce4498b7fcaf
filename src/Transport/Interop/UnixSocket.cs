using System.Text;
using Tmds.Linux;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.Interop;

/// <summary>AF_UNIX SOCK_STREAM sockets: listen, accept, connect, socketpair, and timeouts.</summary>
public static class UnixSocket
{
    private const int SunPathMax = 108;

    /// <summary>
    /// Bind and listen on <paramref name="path"/>, replacing a stale socket file. Mode 0660 so a front-end
    /// running as another user of the socket's group (QEMU) can connect.
    /// </summary>
    public static unsafe FdHandle Listen(string path, int backlog = 16, ushort mode = 0x1B0 /* 0660 */)
    {
        var fd = Create();
        try
        {
            byte[] pathZ = PathBytes(path);
            fixed (byte* p = pathZ)
            {
                // A stale socket file from a previous run would make bind fail with EADDRINUSE.
                if (LibC.unlink(p) != 0 && LibC.errno != LibC.ENOENT) throw LibcException.FromErrno("unlink");
                byte* addr = stackalloc byte[2 + SunPathMax];
                int len = FillAddress(addr, pathZ);
                if (LibC.bind(fd.Fd, (sockaddr*)addr, len) != 0) throw LibcException.FromErrno("bind");
                if (LibC.chmod(p, mode) != 0) throw LibcException.FromErrno("chmod");
            }
            if (LibC.listen(fd.Fd, backlog) != 0) throw LibcException.FromErrno("listen");
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Accept one connection (blocking unless the listener is non-blocking: then null when none waits).</summary>
    public static unsafe FdHandle? Accept(FdHandle listener)
    {
        while (true)
        {
            int fd = LibC.accept4(listener.Fd, null, null, LibC.SOCK_CLOEXEC);
            if (fd >= 0) return FdHandle.Adopt(fd);
            int errno = LibC.errno;
            if (errno == LibC.EINTR) continue;
            if (errno == LibC.EAGAIN) return null;
            throw new LibcException("accept4", errno);
        }
    }

    /// <summary>Connect to a listening socket at <paramref name="path"/>.</summary>
    public static unsafe FdHandle Connect(string path)
    {
        var fd = Create();
        try
        {
            byte[] pathZ = PathBytes(path);
            byte* addr = stackalloc byte[2 + SunPathMax];
            int len = FillAddress(addr, pathZ);
            while (LibC.connect(fd.Fd, (sockaddr*)addr, len) != 0)
            {
                if (LibC.errno != LibC.EINTR) throw LibcException.FromErrno("connect");
            }
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>A connected pair (the front-end's backend channel, or a test's in-process connection).</summary>
    public static unsafe (FdHandle First, FdHandle Second) Pair()
    {
        int* fds = stackalloc int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) != 0)
            throw LibcException.FromErrno("socketpair");
        return (FdHandle.Adopt(fds[0]), FdHandle.Adopt(fds[1]));
    }

    /// <summary>Bound the time one blocking receive may take (a peer that stops mid-message cannot wedge a thread).</summary>
    public static unsafe void SetReceiveTimeout(FdHandle socket, TimeSpan timeout)
    {
        var tv = new TimeVal { Seconds = (long)timeout.TotalSeconds, Microseconds = timeout.Milliseconds * 1000L };
        if (LibC.setsockopt(socket.Fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, &tv, (uint)sizeof(TimeVal)) != 0)
            throw LibcException.FromErrno("setsockopt(SO_RCVTIMEO)");
    }

    /// <summary>Shut both directions down: wakes a thread blocked in recvmsg on this socket.</summary>
    public static void Shutdown(FdHandle socket)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            // ENOTCONN when the peer is already gone: the goal (no more traffic) holds either way.
            LibC.shutdown(socket.Fd, LibC.SHUT_RDWR);
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>Remove a socket file; missing is fine.</summary>
    public static unsafe void Unlink(string path)
    {
        byte[] pathZ = PathBytes(path);
        fixed (byte* p = pathZ) LibC.unlink(p);
    }

    private static FdHandle Create()
    {
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) throw LibcException.FromErrno("socket");
        return FdHandle.Adopt(fd);
    }

    private static byte[] PathBytes(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        if (bytes.Length > SunPathMax) throw new ArgumentException($"socket path longer than {SunPathMax - 1} bytes: {path}", nameof(path));
        return bytes;
    }

    private static unsafe int FillAddress(byte* addr, byte[] pathZ)
    {
        *(ushort*)addr = (ushort)(int)LibC.AF_UNIX;
        for (int i = 0; i < pathZ.Length; i++) addr[2 + i] = pathZ[i];
        return 2 + pathZ.Length;
    }

    private struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }
}
