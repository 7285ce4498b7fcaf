namespace VhsaKmt.Native.Va;

/// <summary>Outcome of a VA operation; guest-caused failures are values, never exceptions.</summary>
public enum VaStatus
{
    Ok = 0,
    /// <summary>Size zero or not a page multiple.</summary>
    InvalidSize,
    /// <summary>Alignment not a power of two or below a page; or an exact address not page aligned.</summary>
    InvalidAlignment,
    /// <summary>No free fragment large enough.</summary>
    OutOfSpace,
    /// <summary>Address (range) not inside this slice / arena.</summary>
    Foreign,
    /// <summary>Exact-address request overlaps an existing allocation.</summary>
    Overlap,
    /// <summary>Free of an address inside the arena that is not the start of an allocation.</summary>
    NotAllocated,
    /// <summary>Free of an address that is already free.</summary>
    DoubleFree,
    /// <summary>The slice was disposed.</summary>
    Disposed,
    /// <summary>Free of a range that KFD memory still occupies (free the KFD allocation first).</summary>
    Busy,
}

/// <summary>Result of Allocate/AllocateAt/Free: on Ok, the allocation's start and size.</summary>
public readonly record struct VaResult(VaStatus Status, ulong Address, ulong Size)
{
    public bool IsOk => Status == VaStatus.Ok;
    public static VaResult Fail(VaStatus status) => new(status, 0, 0);
}

/// <summary>A half-open VA range [Start, Start + Size).</summary>
public readonly record struct VaRange(ulong Start, ulong Size)
{
    public ulong End => Start + Size;
    public bool Contains(ulong address, ulong size) =>
        address >= Start && size <= Size && address - Start <= Size - size;
}
