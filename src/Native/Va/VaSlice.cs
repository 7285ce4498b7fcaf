namespace VhsaKmt.Native.Va;

/// <summary>
/// One context's part of the device VA area: a heap (<see cref="Start"/>, <see cref="Size"/>) and one scratch
/// range per GPU node. Every failure is a <see cref="VaResult"/>. Dispose frees everything and returns the slice.
/// </summary>
public sealed class VaSlice : IDisposable
{
    private VaSlice() { }

    public int Index => throw new NotImplementedException();
    public ulong Start => throw new NotImplementedException();
    public ulong Size => throw new NotImplementedException();

    /// <summary>Aligned allocation; alignment 0 = page.</summary>
    public VaResult Allocate(ulong size, ulong alignment) => throw new NotImplementedException();
    /// <summary>Allocation at exactly <paramref name="address"/>.</summary>
    public VaResult AllocateAt(ulong address, ulong size) => throw new NotImplementedException();
    /// <summary>Frees the allocation starting at <paramref name="address"/>; re-reserves its pages PROT_NONE.</summary>
    public VaResult Free(ulong address) => throw new NotImplementedException();
    /// <summary>[address, +size) inside this slice's heap.</summary>
    public bool Contains(ulong address, ulong size) => throw new NotImplementedException();
    /// <summary>The allocation containing [address, +size), if any.</summary>
    public bool TryFindAllocation(ulong address, ulong size, out VaRange allocation) => throw new NotImplementedException();
    /// <summary>This context's scratch arena for the GPU node with the given index (0-based among GPU nodes), or null.</summary>
    public VaArena? Scratch(int gpuIndex) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
