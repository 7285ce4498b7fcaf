using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using Xunit;

namespace VhsaKmt.Transport.Tests.Interop;

/// <summary>What the IO thread relies on for kick eventfds: edge-triggered, every write is an event of its own, no read needed.</summary>
public sealed class EpollTests
{
    [Fact]
    public void Edge_triggered_eventfd_reports_every_write_once_without_being_read()
    {
        using var epoll = new Epoll();
        using var kick = EventFd.Create();
        epoll.Add(kick.Fd, 7, edgeTriggered: true);
        Span<ulong> ready = stackalloc ulong[4];

        Assert.Equal(0, epoll.Wait(ready, 0));
        EventFd.Signal(kick);
        Assert.Equal(1, epoll.Wait(ready, 0));
        Assert.Equal(7ul, ready[0]);
        Assert.Equal(0, epoll.Wait(ready, 0)); // still readable (never read), but no new edge
        EventFd.Signal(kick);
        EventFd.Signal(kick);
        Assert.Equal(1, epoll.Wait(ready, 0)); // two writes before the wait: one event
        Assert.Equal(0, epoll.Wait(ready, 0));
        EventFd.Signal(kick);
        Assert.Equal(1, epoll.Wait(ready, 0));
        Assert.Equal(4ul, EventFd.Drain(kick)); // the counter only grew
    }

    [Fact]
    public void Level_triggered_eventfd_keeps_reporting_until_read()
    {
        using var epoll = new Epoll();
        using var fd = EventFd.Create();
        epoll.Add(fd.Fd, 9);
        Span<ulong> ready = stackalloc ulong[4];
        EventFd.Signal(fd);
        Assert.Equal(1, epoll.Wait(ready, 0));
        Assert.Equal(1, epoll.Wait(ready, 0));
        EventFd.Drain(fd);
        Assert.Equal(0, epoll.Wait(ready, 0));
    }

    [Fact]
    public void Edge_triggered_fd_added_while_readable_reports_at_once()
    {
        using var epoll = new Epoll();
        using var kick = EventFd.Create();
        EventFd.Signal(kick); // a kick before SET_VRING_KICK handed us the fd
        epoll.Add(kick.Fd, 3, edgeTriggered: true);
        Span<ulong> ready = stackalloc ulong[4];
        Assert.Equal(1, epoll.Wait(ready, 0));
    }
}
