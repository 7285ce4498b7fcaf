namespace VhsaKmt.TestSupport.Vmm;

/// <summary>First-fit allocator of guest-physical ranges over the guest RAM regions (never across two).</summary>
public sealed class GpaAllocator
{
    private readonly List<(ulong Start, ulong End)> _free = new();
    private readonly Lock _lock = new();

    public GpaAllocator(IEnumerable<GuestRamRegion> regions)
    {
        foreach (var r in regions.OrderBy(r => r.GuestPhysAddr)) _free.Add((r.GuestPhysAddr, r.GuestPhysAddr + r.Size));
    }

    /// <summary>Allocate <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    public ulong Alloc(ulong size, ulong alignment = 16)
    {
        if (size == 0) size = 1;
        lock (_lock)
        {
            for (int i = 0; i < _free.Count; i++)
            {
                var (start, end) = _free[i];
                ulong aligned = (start + alignment - 1) & ~(alignment - 1);
                if (aligned + size > end) continue;
                _free.RemoveAt(i);
                if (aligned + size < end) _free.Insert(i, (aligned + size, end));
                if (start < aligned) _free.Insert(i, (start, aligned));
                return aligned;
            }
        }
        throw new InvalidOperationException($"guest RAM exhausted allocating {size} bytes");
    }

    /// <summary>Return a range from <see cref="Alloc"/>.</summary>
    public void Free(ulong gpa, ulong size)
    {
        if (size == 0) size = 1;
        lock (_lock)
        {
            int i = 0;
            while (i < _free.Count && _free[i].Start < gpa) i++;
            _free.Insert(i, (gpa, gpa + size));
            // Coalesce with neighbours that touch.
            if (i + 1 < _free.Count && _free[i].End == _free[i + 1].Start)
            {
                _free[i] = (_free[i].Start, _free[i + 1].End);
                _free.RemoveAt(i + 1);
            }
            if (i > 0 && _free[i - 1].End == _free[i].Start)
            {
                _free[i - 1] = (_free[i - 1].Start, _free[i].End);
                _free.RemoveAt(i);
            }
        }
    }
}
