namespace VhsaKmt.Native.Interop;

/// <summary>Process-wide count of live mappings and memfds created through this layer (leak tests).</summary>
public static class MappingCounters
{
    private static long _mappings, _memfds;

    public static long LiveMappings => Interlocked.Read(ref _mappings);
    public static long LiveMemfds => Interlocked.Read(ref _memfds);

    internal static void MappingCreated() => Interlocked.Increment(ref _mappings);
    internal static void MappingReleased() => Interlocked.Decrement(ref _mappings);
    internal static void MemfdCreated() => Interlocked.Increment(ref _memfds);
    internal static void MemfdReleased() => Interlocked.Decrement(ref _memfds);
}
