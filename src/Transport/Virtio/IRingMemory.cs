namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// Guest memory with the ordered, single-copy-atomic accesses a split ring needs for its index fields
/// (the driver updates them concurrently). Implemented by the memory table; faked in tests.
/// </summary>
public interface IRingMemory : IGuestMemory
{
    /// <summary>True if [gpa, gpa+length) lies wholly inside one region (length 0: gpa inside a region).</summary>
    bool Contains(ulong gpa, ulong length);

    /// <summary>Read an aligned u16 with acquire semantics. False if out of range or unaligned.</summary>
    bool TryReadU16Acquire(ulong gpa, out ushort value);

    /// <summary>Write an aligned u16 with release semantics (everything written before is visible first).</summary>
    bool TryWriteU16Release(ulong gpa, ushort value);
}
