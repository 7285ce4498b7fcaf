namespace VhsaKmt.Transport.Interop;

/// <summary>
/// Live counts of the OS resources this assembly owns (fds, mappings), so tests can assert that a
/// connection, a TestVmm or a failed handshake returns them all (leak tests compare to a baseline).
/// </summary>
public static class ResourceCounters
{
    private static long _openFds;
    private static long _mappings;

    /// <summary>File descriptors currently owned through <see cref="FdHandle"/>.</summary>
    public static long OpenFds => Interlocked.Read(ref _openFds);

    /// <summary>Mappings currently owned through <see cref="MemoryMapping"/>.</summary>
    public static long Mappings => Interlocked.Read(ref _mappings);

    internal static void FdOpened() => Interlocked.Increment(ref _openFds);
    internal static void FdClosed() => Interlocked.Decrement(ref _openFds);
    internal static void MappingCreated() => Interlocked.Increment(ref _mappings);
    internal static void MappingRemoved() => Interlocked.Decrement(ref _mappings);
}

