using Tmds.Linux;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.Interop;

/// <summary>poll(2) on a few fds with a timeout: readiness without owning an epoll instance.</summary>
public static class Poller
{
    /// <summary>Wait until <paramref name="fd"/> is readable (or hung up). False on timeout.</summary>
    public static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        var pfd = new pollfd { fd = fd, events = (short)LibC.POLLIN };
        while (true)
        {
            int rc = LibC.poll(&pfd, 1u, timeoutMs);
            if (rc > 0) return true;
            if (rc == 0) return false;
            if (LibC.errno == LibC.EINTR) continue;
            throw LibcException.FromErrno("poll");
        }
    }

    /// <summary>Wait until one of two fds is readable. Returns 0 or 1 (first ready), -1 on timeout.</summary>
    public static unsafe int WaitEither(int fd0, int fd1, int timeoutMs)
    {
        pollfd* pfds = stackalloc pollfd[2];
        pfds[0] = new pollfd { fd = fd0, events = (short)LibC.POLLIN };
        pfds[1] = new pollfd { fd = fd1, events = (short)LibC.POLLIN };
        while (true)
        {
            int rc = LibC.poll(pfds, 2u, timeoutMs);
            if (rc > 0) return pfds[0].revents != 0 ? 0 : 1;
            if (rc == 0) return -1;
            if (LibC.errno == LibC.EINTR) continue;
            throw LibcException.FromErrno("poll");
        }
    }
}
