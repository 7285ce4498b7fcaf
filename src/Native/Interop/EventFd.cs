using Tmds.Linux;

namespace VhsaKmt.Native.Interop;

/// <summary>
/// eventfd over an owned <see cref="FdHandle"/>: kick/call/err notifiers and wake-ups. Signal and Drain take any
/// FdHandle because vhost-user kick/call fds are eventfds the peer created and sent.
/// </summary>
public static class EventFd
{
    /// <summary>A new eventfd, counter 0, CLOEXEC and non-blocking (a drain never blocks an IO loop).</summary>
    public static FdHandle Create()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0) throw LibcException.FromErrno("eventfd");
        return FdHandle.Adopt(fd);
    }

    /// <summary>Add <paramref name="value"/> to the counter. A full counter (EAGAIN) already means "signalled", so it is not an error.</summary>
    public static unsafe void Signal(FdHandle eventFd, ulong value = 1)
    {
        bool added = false;
        eventFd.DangerousAddRef(ref added);
        try
        {
            while (true)
            {
                long n = LibC.write(eventFd.Fd, &value, 8);
                if (n == 8) return;
                int errno = LibC.errno;
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EAGAIN) return;
                throw new LibcException("write(eventfd)", errno);
            }
        }
        finally
        {
            if (added) eventFd.DangerousRelease();
        }
    }

    /// <summary>Read and reset the counter; 0 when nothing was signalled (the fd must be non-blocking or
    /// known readable). Works for any fd a peer sent (blocking ones only after poll says readable).</summary>
    public static unsafe ulong Drain(FdHandle eventFd)
    {
        ulong value = 0;
        bool added = false;
        eventFd.DangerousAddRef(ref added);
        try
        {
            while (true)
            {
                long n = LibC.read(eventFd.Fd, &value, 8);
                if (n == 8) return value;
                int errno = LibC.errno;
                if (n < 0 && errno == LibC.EINTR) continue;
                if (n < 0 && errno == LibC.EAGAIN) return 0;
                throw new LibcException("read(eventfd)", errno);
            }
        }
        finally
        {
            if (added) eventFd.DangerousRelease();
        }
    }
}
