using Serilog;

namespace VhsaKmt.Native.Va;

/// <summary>
/// Reserves the whole device VA area once (PROT_NONE, NORESERVE, MAP_FIXED_NOREPLACE, MADV_DONTFORK) and hands
/// each guest context a disjoint <see cref="VaSlice"/>. Thread-safe.
/// </summary>
public sealed class VaManager : IDisposable
{
    public VaManager(VaOptions options, ILogger? log = null) => throw new NotImplementedException();

    public VaOptions Options => throw new NotImplementedException();
    /// <summary>The whole reservation.</summary>
    public VaRange Area => throw new NotImplementedException();
    /// <summary>The context slices' range.</summary>
    public VaRange SliceArea => throw new NotImplementedException();
    /// <summary>Where doorbell pages go: inside the reservation, outside every slice.</summary>
    public VaRange DoorbellWindow => throw new NotImplementedException();
    public int FreeSliceCount => throw new NotImplementedException();

    /// <summary>A free slice, or null when all are taken.</summary>
    public VaSlice? ReserveSlice() => throw new NotImplementedException();

    /// <summary>True if [address, +size) lies inside the reservation.</summary>
    public bool Covers(ulong address, ulong size) => throw new NotImplementedException();

    /// <summary>Puts PROT_NONE reserved pages back over [address, +size) after real pages were mapped there.</summary>
    public void Rereserve(ulong address, ulong size) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
