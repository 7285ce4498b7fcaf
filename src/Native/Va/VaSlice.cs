namespace VhsaKmt.Native.Va;

/// <summary>
/// One context's part of the device VA area: a heap (<see cref="Start"/>, <see cref="Size"/>) and one scratch
/// range per GPU node. Every failure is a <see cref="VaResult"/>. Dispose returns everything (pages go back to
/// PROT_NONE) and gives the slice back to the manager. Thread-safe.
/// </summary>
public sealed class VaSlice : IDisposable
{
    private readonly object _lock = new();
    private readonly VaManager _manager;
    private readonly VaArena _heap;
    private readonly VaArena[] _scratch;
    private bool _disposed;

    internal VaSlice(VaManager manager, int index, VaRange heap, IReadOnlyList<VaRange> scratch, ulong pageSize)
    {
        _manager = manager;
        Index = index;
        _heap = new VaArena(heap, pageSize);
        _scratch = scratch.Select(r => new VaArena(r, pageSize)).ToArray();
    }

    public int Index { get; }
    public ulong Start => _heap.Range.Start;
    public ulong Size => _heap.Range.Size;
    public VaRange Range => _heap.Range;
    public int ScratchNodeCount => _scratch.Length;

    public int AllocationCount
    {
        get { lock (_lock) return _heap.AllocationCount + _scratch.Sum(s => s.AllocationCount); }
    }

    /// <summary>Aligned allocation in the heap; alignment 0 = page.</summary>
    public VaResult Allocate(ulong size, ulong alignment)
    {
        lock (_lock) return _disposed ? VaResult.Fail(VaStatus.Disposed) : _heap.Allocate(size, alignment);
    }

    /// <summary>Allocation at exactly <paramref name="address"/> in the heap.</summary>
    public VaResult AllocateAt(ulong address, ulong size)
    {
        lock (_lock) return _disposed ? VaResult.Fail(VaStatus.Disposed) : _heap.AllocateAt(address, size);
    }

    /// <summary>
    /// Frees the heap or scratch allocation starting at <paramref name="address"/>. Busy while KFD memory is still
    /// mapped over it (free the KFD allocation first), so a VA never returns to the pool with live pages on it.
    /// </summary>
    public VaResult Free(ulong address)
    {
        lock (_lock)
        {
            if (_disposed) return VaResult.Fail(VaStatus.Disposed);
            var arena = ArenaOf(address);
            if (arena is null) return VaResult.Fail(VaStatus.Foreign);
            if (arena.TryFindAllocation(address, 1, out var a) && a.Start == address && _manager.IsBacked(a.Start, a.Size))
                return VaResult.Fail(VaStatus.Busy);
            return arena.Free(address);
        }
    }

    /// <summary>[address, +size) inside this slice's heap.</summary>
    public bool Contains(ulong address, ulong size) => size > 0 && _heap.Range.Contains(address, size);

    /// <summary>[address, +size) inside this slice's heap or one of its scratch ranges.</summary>
    public bool ContainsAny(ulong address, ulong size) =>
        size > 0 && (_heap.Range.Contains(address, size) || _scratch.Any(s => s.Range.Contains(address, size)));

    /// <summary>The heap or scratch allocation containing [address, +size), if any.</summary>
    public bool TryFindAllocation(ulong address, ulong size, out VaRange allocation)
    {
        lock (_lock)
        {
            allocation = default;
            return !_disposed && ArenaOf(address) is VaArena a && a.TryFindAllocation(address, size, out allocation);
        }
    }

    /// <summary>The scratch range of the GPU node with this index (0-based among GPU nodes), or null.</summary>
    public VaRange? ScratchRange(int gpuIndex) => gpuIndex >= 0 && gpuIndex < _scratch.Length ? _scratch[gpuIndex].Range : null;

    /// <summary>Sub-allocates scratch for one GPU node (page-aligned); Foreign for an unknown node index.</summary>
    public VaResult AllocateScratch(int gpuIndex, ulong size, ulong alignment)
    {
        lock (_lock)
        {
            if (_disposed) return VaResult.Fail(VaStatus.Disposed);
            return gpuIndex >= 0 && gpuIndex < _scratch.Length
                ? _scratch[gpuIndex].Allocate(size, alignment)
                : VaResult.Fail(VaStatus.Foreign);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        var ranges = new List<VaRange> { _heap.Range };
        ranges.AddRange(_scratch.Select(s => s.Range));
        _manager.Release(this, ranges);
    }

    /// <summary>The manager went away first: the slice refuses everything from now on.</summary>
    internal void MarkOrphaned()
    {
        lock (_lock) _disposed = true;
    }

    // Under _lock.
    private VaArena? ArenaOf(ulong address)
    {
        if (_heap.Range.Contains(address, 1)) return _heap;
        foreach (var s in _scratch)
            if (s.Range.Contains(address, 1)) return s;
        return null;
    }
}
