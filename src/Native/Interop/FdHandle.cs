using System.Runtime.InteropServices;
using Tmds.Linux;

namespace VhsaKmt.Native.Interop;

/// <summary>
/// An owned file descriptor of no particular kind (sockets, eventfds, fds received from a peer). Every such fd is
/// wrapped exactly once; the handle closes it (and updates <see cref="ResourceCounters.OpenFds"/>) when disposed or
/// finalized. Memfds this process creates have their own type, <see cref="Memfd"/>, which also knows their size.
/// </summary>
public sealed class FdHandle : SafeHandle
{
    private FdHandle() : base(new IntPtr(-1), ownsHandle: true) { }

    /// <summary>Take ownership of <paramref name="fd"/> (must be a valid, otherwise unowned fd).</summary>
    public static FdHandle Adopt(int fd)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "not a file descriptor");
        var handle = new FdHandle();
        handle.SetHandle(new IntPtr(fd));
        ResourceCounters.FdOpened();
        return handle;
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw fd number (valid while this handle is alive and not closed).</summary>
    public int Fd => (int)handle.ToInt64();

    /// <summary>A new owned handle to the same open file description (F_DUPFD_CLOEXEC).</summary>
    public FdHandle Duplicate() => Adopt(FileDescriptors.DuplicateRaw(this));

    /// <summary>Give up ownership: the raw fd is returned and this handle no longer closes it (e.g. handing it to a SafeFileHandle).</summary>
    public int Detach()
    {
        int fd = Fd;
        SetHandleAsInvalid();
        ResourceCounters.FdClosed();
        return fd;
    }

    protected override bool ReleaseHandle()
    {
        int rc = LibC.close(Fd);
        ResourceCounters.FdClosed();
        return rc == 0;
    }
}
