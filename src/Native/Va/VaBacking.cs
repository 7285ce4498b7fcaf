namespace VhsaKmt.Native.Va;

/// <summary>
/// A range of the reservation that currently holds real pages (KFD memory mapped MAP_FIXED over PROT_NONE).
/// Returned by <see cref="VaManager.TryBack"/>; <see cref="VaManager.Unback"/> re-reserves it PROT_NONE unless the
/// owning slice or manager already reclaimed it (then <see cref="IsValid"/> is false and nothing is touched).
/// </summary>
public sealed class VaBacking
{
    internal VaBacking(VaRange range) => Range = range;

    public VaRange Range { get; }
    public bool IsValid { get; internal set; } = true;
}
