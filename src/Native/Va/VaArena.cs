using System.Numerics;

namespace VhsaKmt.Native.Va;

/// <summary>
/// Free-list allocator over one VA range: free fragments indexed by address and by (size, address), allocations by
/// address, all O(log n) except the alignment scan of <see cref="Allocate"/> (best fit, then upward). Freeing coalesces
/// with free neighbours. Not thread-safe: the owner (a slice) locks.
/// </summary>
public sealed class VaArena
{
    private readonly SortedSet<VaRange> _freeByAddress = new(ByAddress.Instance);
    private readonly SortedSet<VaRange> _freeBySize = new(BySize.Instance);
    private readonly SortedSet<VaRange> _allocated = new(ByAddress.Instance);
    private readonly ulong _page;

    public VaArena(VaRange range, ulong pageSize)
    {
        if (!BitOperations.IsPow2(pageSize) || range.Start % pageSize != 0 || range.Size % pageSize != 0 || range.Size == 0)
            throw new ArgumentException($"arena [{range.Start:x}, +{range.Size:x}) not page ({pageSize}) aligned");
        if (range.Start + range.Size < range.Start)
            throw new ArgumentOutOfRangeException(nameof(range), "range wraps");
        Range = range;
        _page = pageSize;
        AddFree(range);
    }

    public VaRange Range { get; }
    public IEnumerable<VaRange> Allocations => _allocated;
    public int AllocationCount => _allocated.Count;
    public ulong FreeBytes { get; private set; }

    /// <summary>Aligned best-fit allocation; alignment 0 means a page.</summary>
    public VaResult Allocate(ulong size, ulong alignment)
    {
        if (size == 0 || size % _page != 0) return VaResult.Fail(VaStatus.InvalidSize);
        if (alignment == 0) alignment = _page;
        if (!BitOperations.IsPow2(alignment) || alignment < _page) return VaResult.Fail(VaStatus.InvalidAlignment);
        if (size > FreeBytes) return VaResult.Fail(VaStatus.OutOfSpace);

        // Fragments of at least `size`, smallest first; the first that fits after alignment wins.
        foreach (var f in _freeBySize.GetViewBetween(new VaRange(0, size), new VaRange(ulong.MaxValue, ulong.MaxValue)))
        {
            var start = AlignUp(f.Start, alignment);
            if (start is ulong s && s >= f.Start && s - f.Start <= f.Size - size)
            {
                Take(f, s, size);
                return new VaResult(VaStatus.Ok, s, size);
            }
        }
        return VaResult.Fail(VaStatus.OutOfSpace);
    }

    /// <summary>Allocation at exactly <paramref name="address"/>.</summary>
    public VaResult AllocateAt(ulong address, ulong size)
    {
        if (size == 0 || size % _page != 0) return VaResult.Fail(VaStatus.InvalidSize);
        if (address % _page != 0) return VaResult.Fail(VaStatus.InvalidAlignment);
        if (!Range.Contains(address, size)) return VaResult.Fail(VaStatus.Foreign);
        if (FloorFree(address) is VaRange f && f.Contains(address, size))
        {
            Take(f, address, size);
            return new VaResult(VaStatus.Ok, address, size);
        }
        return VaResult.Fail(VaStatus.Overlap);
    }

    /// <summary>Frees the allocation that starts at <paramref name="address"/>.</summary>
    public VaResult Free(ulong address)
    {
        if (!Range.Contains(address, 1)) return VaResult.Fail(VaStatus.Foreign);
        if (!_allocated.TryGetValue(new VaRange(address, 0), out var a))
        {
            // Inside a free fragment: freed already (or never allocated there). Otherwise inside an allocation.
            return FloorFree(address) is VaRange f && f.Contains(address, 1)
                ? VaResult.Fail(VaStatus.DoubleFree)
                : VaResult.Fail(VaStatus.NotAllocated);
        }
        _allocated.Remove(a);
        var merged = a;
        if (FloorFree(a.Start) is VaRange before && before.End == a.Start)
        {
            RemoveFree(before);
            merged = new VaRange(before.Start, before.Size + merged.Size);
        }
        if (_freeByAddress.TryGetValue(new VaRange(a.End, 0), out var after))
        {
            RemoveFree(after);
            merged = new VaRange(merged.Start, merged.Size + after.Size);
        }
        AddFree(merged);
        return new VaResult(VaStatus.Ok, a.Start, a.Size);
    }

    /// <summary>The allocation that contains all of [address, +size), if any.</summary>
    public bool TryFindAllocation(ulong address, ulong size, out VaRange allocation)
    {
        allocation = default;
        if (!Range.Contains(address, Math.Max(size, 1))) return false;
        // View.Max is O(log n) (View.Count would walk the view); an empty view yields default (Size 0).
        var a = _allocated.GetViewBetween(new VaRange(Range.Start, 0), new VaRange(address, 0)).Max;
        if (a.Size == 0 || !a.Contains(address, Math.Max(size, 1))) return false;
        allocation = a;
        return true;
    }

    private VaRange? FloorFree(ulong address)
    {
        if (address < Range.Start) return null;
        var f = _freeByAddress.GetViewBetween(new VaRange(Range.Start, 0), new VaRange(address, 0)).Max;
        return f.Size == 0 ? null : f;
    }

    private void Take(VaRange fragment, ulong start, ulong size)
    {
        RemoveFree(fragment);
        if (start > fragment.Start) AddFree(new VaRange(fragment.Start, start - fragment.Start));
        var end = start + size;
        if (end < fragment.End) AddFree(new VaRange(end, fragment.End - end));
        _allocated.Add(new VaRange(start, size));
    }

    private void AddFree(VaRange r)
    {
        _freeByAddress.Add(r);
        _freeBySize.Add(r);
        FreeBytes += r.Size;
    }

    private void RemoveFree(VaRange r)
    {
        _freeByAddress.Remove(r);
        _freeBySize.Remove(r);
        FreeBytes -= r.Size;
    }

    private static ulong? AlignUp(ulong value, ulong alignment)
    {
        var mask = alignment - 1;
        return value > ulong.MaxValue - mask ? null : (value + mask) & ~mask;
    }

    private sealed class ByAddress : IComparer<VaRange>
    {
        public static readonly ByAddress Instance = new();
        public int Compare(VaRange x, VaRange y) => x.Start.CompareTo(y.Start);
    }

    private sealed class BySize : IComparer<VaRange>
    {
        public static readonly BySize Instance = new();
        public int Compare(VaRange x, VaRange y)
        {
            var c = x.Size.CompareTo(y.Size);
            return c != 0 ? c : x.Start.CompareTo(y.Start);
        }
    }
}
