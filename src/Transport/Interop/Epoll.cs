using Tmds.Linux;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.Interop;

/// <summary>An owned epoll instance: readability of registered fds (level- or edge-triggered), keyed by a u64 tag.</summary>
public sealed class Epoll : IDisposable
{
    private readonly FdHandle _epfd;

    public Epoll()
    {
        int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (fd < 0) throw LibcException.FromErrno("epoll_create1");
        _epfd = FdHandle.Adopt(fd);
    }

    /// <summary>
    /// Watch <paramref name="fd"/> for input; events report <paramref name="tag"/>. <paramref name="edgeTriggered"/>:
    /// one event per change instead of while readable — for an eventfd, one per write, so it need not be read.
    /// </summary>
    public unsafe void Add(int fd, ulong tag, bool edgeTriggered = false)
    {
        var ev = new epoll_event { events = LibC.EPOLLIN | (edgeTriggered ? LibC.EPOLLET : 0) };
        ev.data.u64 = tag;
        if (LibC.epoll_ctl(_epfd.Fd, LibC.EPOLL_CTL_ADD, fd, &ev) != 0) throw LibcException.FromErrno("epoll_ctl(ADD)");
    }

    /// <summary>Stop watching <paramref name="fd"/> (call before closing it).</summary>
    public unsafe void Remove(int fd)
    {
        var ev = default(epoll_event);
        // ENOENT/EBADF: already gone (the fd was never added or was closed): nothing to undo.
        LibC.epoll_ctl(_epfd.Fd, LibC.EPOLL_CTL_DEL, fd, &ev);
    }

    /// <summary>Wait up to <paramref name="timeoutMs"/> (-1: forever, 0: poll); writes ready tags, returns their count.</summary>
    public unsafe int Wait(Span<ulong> readyTags, int timeoutMs)
    {
        int max = Math.Min(readyTags.Length, 16);
        epoll_event* events = stackalloc epoll_event[max];
        int n;
        while (true)
        {
            n = LibC.epoll_wait(_epfd.Fd, events, max, timeoutMs);
            if (n >= 0) break;
            if (LibC.errno == LibC.EINTR) continue;
            throw LibcException.FromErrno("epoll_wait");
        }
        for (int i = 0; i < n; i++) readyTags[i] = events[i].data.u64;
        return n;
    }

    public void Dispose() => _epfd.Dispose();
}
