namespace VhsaKmt.Native.LibHsaKmt;

/// <summary>
/// libhsakmt keeps process-global state (the /dev/kfd fd, topology snapshot, fmm apertures, event page, queue list)
/// with only partial internal locking, so every call from this process goes through this one lock — including
/// calls from different <see cref="LibHsaKmtKfd"/> instances. The one exception is the blocking event wait, which
/// runs outside the lock in short slices (see <see cref="LibHsaKmtKfd.WaitOnMultipleEventsAsync"/>).
/// </summary>
internal static class HsaKmtGate
{
    public static readonly object Lock = new();
}
