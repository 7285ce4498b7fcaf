using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace VhsaKmt.Native.Interop;

/// <summary>An owned eventfd (CLOEXEC) with 8-byte counter read/write.</summary>
public sealed unsafe class EventFd : SafeHandleZeroOrMinusOneIsInvalid
{
    private EventFd() : base(ownsHandle: true) { }

    public int Fd => (int)handle;

    public static EventFd Create(uint initial = 0, bool nonBlocking = true, bool semaphore = false)
    {
        var flags = EFD_CLOEXEC | (nonBlocking ? EFD_NONBLOCK : 0) | (semaphore ? EFD_SEMAPHORE : 0);
        var fd = eventfd(initial, flags);
        if (fd < 0) throw new LibcException("eventfd", errno);
        var e = new EventFd();
        e.SetHandle(fd);
        return e;
    }

    /// <summary>Adds <paramref name="value"/> to the counter (wakes a reader).</summary>
    public void Signal(ulong value = 1)
    {
        while (write(Fd, &value, 8) != 8)
        {
            var e = errno;
            if (e != Errno.EINTR) throw new LibcException("write(eventfd)", e);
        }
    }

    /// <summary>Reads and clears the counter; false if it was zero (non-blocking).</summary>
    public bool TryConsume(out ulong value)
    {
        ulong v = 0;
        while (true)
        {
            if (read(Fd, &v, 8) == 8) { value = v; return true; }
            var e = errno;
            if (e == Errno.EINTR) continue;
            if (e == Errno.EAGAIN) { value = 0; return false; }
            throw new LibcException("read(eventfd)", e);
        }
    }

    protected override bool ReleaseHandle() => close((int)handle) == 0;
}
