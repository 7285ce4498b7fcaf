namespace VhsaKmt.Native.Interop;

/// <summary>
/// Process-wide counts of the OS resources owned through this layer, so leak tests (a connection, a TestVmm, a
/// context teardown, a failed handshake) can compare against a baseline.
/// </summary>
public static class ResourceCounters
{
    private static long _openFds, _mappings, _memfds;

    /// <summary>File descriptors currently owned through <see cref="FdHandle"/>.</summary>
    public static long OpenFds => Interlocked.Read(ref _openFds);

    /// <summary>Mappings and reservations currently owned through <see cref="MappedRegion"/>.</summary>
    public static long LiveMappings => Interlocked.Read(ref _mappings);

    /// <summary>Memfds currently owned through <see cref="Memfd"/>.</summary>
    public static long LiveMemfds => Interlocked.Read(ref _memfds);

    internal static void FdOpened() => Interlocked.Increment(ref _openFds);
    internal static void FdClosed() => Interlocked.Decrement(ref _openFds);
    internal static void MappingCreated() => Interlocked.Increment(ref _mappings);
    internal static void MappingReleased() => Interlocked.Decrement(ref _mappings);
    internal static void MemfdCreated() => Interlocked.Increment(ref _memfds);
    internal static void MemfdReleased() => Interlocked.Decrement(ref _memfds);
}
