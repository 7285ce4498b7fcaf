namespace VhsaKmt.Native.Va;

/// <summary>A free-list allocator over one VA range (O(log n)); used for slice heaps and scratch ranges. Not thread-safe.</summary>
public sealed class VaArena
{
    public VaArena(VaRange range, ulong pageSize) => throw new NotImplementedException();

    public VaRange Range => throw new NotImplementedException();
    public VaResult Allocate(ulong size, ulong alignment) => throw new NotImplementedException();
    public VaResult AllocateAt(ulong address, ulong size) => throw new NotImplementedException();
    public VaResult Free(ulong address) => throw new NotImplementedException();
    public bool TryFindAllocation(ulong address, ulong size, out VaRange allocation) => throw new NotImplementedException();
    public IEnumerable<VaRange> Allocations => throw new NotImplementedException();
    public ulong FreeBytes => throw new NotImplementedException();
}
