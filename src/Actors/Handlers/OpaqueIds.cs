namespace VhsaKmt.Actors.Handlers;

/// <summary>Process-unique, non-zero opaque ids for values the guest must never see as host pointers or fds.</summary>
public static class OpaqueIds
{
    private static long s_next = 0x7000_0000;

    public static ulong Next() => (ulong)Interlocked.Increment(ref s_next);
}
