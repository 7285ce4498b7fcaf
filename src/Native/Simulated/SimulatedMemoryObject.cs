using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Simulated;

internal enum SimulatedMemoryKind
{
    /// <summary>hsaKmtAllocMemory.</summary>
    Allocation,
    /// <summary>hsaKmtRegisterMemoryWithFlags (user pages owned by the caller).</summary>
    Userptr,
    /// <summary>hsaKmtRegisterSharedHandleToNodes.</summary>
    SharedImport,
    /// <summary>hsaKmtRegisterGraphicsHandleToNodes.</summary>
    GraphicsImport,
}

/// <summary>One KFD memory object of the simulated process.</summary>
internal sealed class SimulatedMemoryObject
{
    public required SimulatedMemoryKind Kind { get; init; }
    /// <summary>VA, or the opaque handle of a NoAddress allocation.</summary>
    public required ulong Address { get; init; }
    public required ulong Size { get; init; }
    public required uint Node { get; init; }
    public required HsaMemFlags Flags { get; init; }
    public bool IsHandle { get; init; }
    /// <summary>Backing file (allocations own theirs; imports own a dup); null for scratch, OnlyAddress and userptr.</summary>
    public SafeHandle? File { get; init; }
    public ulong FileOffset { get; init; }
    /// <summary>(device, inode) of <see cref="File"/>: recognises our own dma-bufs on import without an fstat per object.</summary>
    public (ulong Dev, ulong Ino)? FileId { get; init; }
    /// <summary>The CPU mapping of the pages, if any.</summary>
    public MappedRegion? Cpu { get; init; }
    /// <summary>Bytes charged to a bank: node id and amount (0 = not charged).</summary>
    public ulong ChargedBytes { get; init; }
    public bool ChargedToVram { get; init; }
    public int GpuMapCount { get; set; }
    public HashSet<uint> MappedNodes { get; } = new();
    public ulong ShareId { get; set; }

    public bool Contains(ulong address, ulong size) => new VaRange(Address, Size).Contains(address, Math.Max(size, 1));

    public void Release()
    {
        Cpu?.Dispose();
        File?.Dispose();
    }
}
