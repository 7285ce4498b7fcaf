namespace VhsaKmt.Native.Va;

/// <summary>
/// Layout of the device VA area (HOCON <c>vhsakmt.kfd.va</c>). Order inside the one reservation:
/// [Base, +SliceCount×SliceSize) context slices, then per slice and GPU node a scratch range, then the doorbell window.
/// </summary>
public sealed record VaOptions
{
    public const ulong GiB = 1UL << 30, TiB = 1UL << 40;

    /// <summary>Default 0x1000_0000_0000 (16 TiB), PROTOCOL.md §6.5.</summary>
    public ulong Base { get; init; } = 0x1000_0000_0000;
    public ulong SliceSize { get; init; } = 32 * GiB;
    public int SliceCount { get; init; } = 256;
    /// <summary>Scratch per context and GPU node (NumXcc × 4 GiB on the reference).</summary>
    public ulong ScratchSizePerNode { get; init; } = 4 * GiB;
    public int GpuNodeCount { get; init; } = 1;
    /// <summary>Window for per-node doorbell pages, outside every slice.</summary>
    public ulong DoorbellWindowSize { get; init; } = 64UL << 20;
    /// <summary>Distance the whole area must keep below the guest's PIE/brk region (≈0x5500_0000_0000).</summary>
    public ulong Margin { get; init; } = 1 * TiB;
    /// <summary>Lowest address the guest's PIE/brk/mmap regions are assumed to start at (x86-64, 4-level paging).</summary>
    public ulong GuestRegionFloor { get; init; } = 0x5500_0000_0000;
}
