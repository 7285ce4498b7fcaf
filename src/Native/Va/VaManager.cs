using Serilog;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Native.Va;

/// <summary>
/// Reserves the whole device VA area once (PROT_NONE, NORESERVE, MAP_FIXED_NOREPLACE, MADV_DONTFORK) and hands
/// each guest context a disjoint <see cref="VaSlice"/>. Layout: slices, then per slice one scratch range per GPU
/// node, then the doorbell window. Tracks which ranges hold real pages (<see cref="VaBacking"/>) so a VA is never
/// handed out again while KFD memory sits there. Thread-safe (one lock; operations are short).
/// </summary>
public sealed class VaManager : IDisposable
{
    private readonly object _lock = new();
    private readonly ILogger _log;
    private readonly MappedRegion _reservation;
    private readonly SortedSet<int> _freeSlices = new();
    private readonly Dictionary<int, VaSlice> _liveSlices = new();
    // Backed ranges by start address; disjoint; O(log n) overlap checks.
    private readonly RangeIndex<VaBacking> _backings = new();
    private bool _disposed;

    public VaManager(VaOptions options, ILogger? log = null)
    {
        _log = (log ?? Log.Logger).ForContext<VaManager>();
        Options = options;
        PageSize = (ulong)Environment.SystemPageSize;
        Validate(options, PageSize);

        var slices = checked(options.SliceSize * (ulong)options.SliceCount);
        var scratch = checked(options.ScratchSizePerNode * (ulong)options.GpuNodeCount * (ulong)options.SliceCount);
        var total = checked(slices + scratch + options.DoorbellWindowSize);
        Area = new VaRange(options.Base, total);
        SliceArea = new VaRange(options.Base, slices);
        ScratchArea = new VaRange(options.Base + slices, scratch);
        DoorbellWindow = new VaRange(options.Base + slices + scratch, options.DoorbellWindowSize);
        if (Area.End > options.GuestRegionFloor - options.Margin)
            throw new ArgumentException(
                $"VA area [{Area.Start:x}, {Area.End:x}) must end {options.Margin:x} below the guest region floor {options.GuestRegionFloor:x}");

        _reservation = Mmap.TryReserve(Area.Start, Area.Size)
            ?? throw new InvalidOperationException($"VA area [{Area.Start:x}, {Area.End:x}) is already (partly) mapped in this process");
        for (var i = 0; i < options.SliceCount; i++) _freeSlices.Add(i);
        _log.Information(
            "VA area reserved at {Base:x} size {Size:x} (end {End:x}, margin {Margin:x} below {Floor:x}): {Slices} slices of {SliceSize:x}, scratch {Scratch:x} per node x {Nodes} nodes, doorbells at {Doorbells:x}",
            Area.Start, Area.Size, Area.End, options.Margin, options.GuestRegionFloor, options.SliceCount, options.SliceSize,
            options.ScratchSizePerNode, options.GpuNodeCount, DoorbellWindow.Start);
    }

    public VaOptions Options { get; }
    public ulong PageSize { get; }
    /// <summary>The whole reservation.</summary>
    public VaRange Area { get; }
    /// <summary>The context slices' range.</summary>
    public VaRange SliceArea { get; }
    public VaRange ScratchArea { get; }
    /// <summary>Where doorbell pages go: inside the reservation, outside every slice.</summary>
    public VaRange DoorbellWindow { get; }

    public int FreeSliceCount
    {
        get { lock (_lock) return _freeSlices.Count; }
    }

    public int LiveBackingCount
    {
        get { lock (_lock) return _backings.Count; }
    }

    /// <summary>The lowest free slice, or null when all are taken (or the manager is disposed).</summary>
    public VaSlice? ReserveSlice()
    {
        lock (_lock)
        {
            if (_disposed || _freeSlices.Count == 0) return null;
            var index = _freeSlices.Min;
            _freeSlices.Remove(index);
            var heap = new VaRange(SliceArea.Start + (ulong)index * Options.SliceSize, Options.SliceSize);
            var scratch = new VaRange[Options.GpuNodeCount];
            for (var n = 0; n < scratch.Length; n++)
                scratch[n] = new VaRange(
                    ScratchArea.Start + ((ulong)index * (ulong)Options.GpuNodeCount + (ulong)n) * Options.ScratchSizePerNode,
                    Options.ScratchSizePerNode);
            var slice = new VaSlice(this, index, heap, scratch, PageSize);
            _liveSlices.Add(index, slice);
            _log.Debug("VA slice {Index} reserved at {Start:x}", index, heap.Start);
            return slice;
        }
    }

    /// <summary>True if [address, +size) lies inside the reservation.</summary>
    public bool Covers(ulong address, ulong size) => size > 0 && Area.Contains(address, size);

    /// <summary>
    /// Records that the caller is about to map real pages over [address, +size) (page aligned, inside the area,
    /// not overlapping another backing). Null if refused.
    /// </summary>
    public VaBacking? TryBack(ulong address, ulong size)
    {
        if (size == 0 || address % PageSize != 0 || size % PageSize != 0 || !Covers(address, size)) return null;
        lock (_lock)
        {
            if (_disposed) return null;
            var b = new VaBacking(new VaRange(address, size));
            return _backings.TryAdd(address, size, b) ? b : null;
        }
    }

    /// <summary>Ends a backing: re-reserves its pages PROT_NONE (unless already reclaimed).</summary>
    public void Unback(VaBacking backing)
    {
        lock (_lock)
        {
            if (!backing.IsValid) return;
            backing.IsValid = false;
            _backings.Remove(backing.Range.Start);
            Mmap.Rereserve(backing.Range.Start, backing.Range.Size);
        }
    }

    /// <summary>True if any backing intersects [address, +size).</summary>
    public bool IsBacked(ulong address, ulong size)
    {
        lock (_lock) return size > 0 && _backings.Overlaps(address, size);
    }

    /// <summary>Called by a slice on Dispose: reclaims its backings (pages go back to PROT_NONE) and frees its index.</summary>
    internal void Release(VaSlice slice, IReadOnlyList<VaRange> ranges)
    {
        lock (_lock)
        {
            if (!_liveSlices.Remove(slice.Index)) return;
            if (_disposed) return;
            foreach (var r in ranges)
            {
                var leaked = _backings.StartingIn(r.Start, r.End).ToList();
                foreach (var b in leaked)
                {
                    _log.Warning("VA slice {Index}: KFD memory at {Address:x} size {Size:x} still mapped at slice release; reclaimed",
                        slice.Index, b.Range.Start, b.Range.Size);
                    b.IsValid = false;
                    _backings.Remove(b.Range.Start);
                    Mmap.Rereserve(b.Range.Start, b.Range.Size);
                }
            }
            _freeSlices.Add(slice.Index);
            _log.Debug("VA slice {Index} released", slice.Index);
        }
    }

    /// <summary>Unmaps the whole reservation (and whatever was mapped over it). Live slices become unusable.</summary>
    public void Dispose()
    {
        VaSlice[] slices;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var b in _backings.Values.ToList())
            {
                b.IsValid = false;
                _backings.Remove(b.Range.Start);
            }
            slices = _liveSlices.Values.ToArray();
            _liveSlices.Clear();
            _reservation.Dispose();
        }
        foreach (var s in slices) s.MarkOrphaned();
        _log.Information("VA area at {Base:x} released", Area.Start);
    }

    private static void Validate(VaOptions o, ulong page)
    {
        const ulong gib = VaOptions.GiB;
        if (o.Base % gib != 0) throw new ArgumentException($"va.base {o.Base:x} must be 1 GiB aligned");
        if (o.SliceSize == 0 || o.SliceSize % (2UL << 20) != 0)
            throw new ArgumentException($"va.slice-size {o.SliceSize:x} must be a non-zero multiple of 2 MiB");
        if (o.SliceCount <= 0) throw new ArgumentException("va.slice-count must be positive");
        if (o.GpuNodeCount < 0) throw new ArgumentException("GPU node count must not be negative");
        if (o.ScratchSizePerNode % page != 0) throw new ArgumentException("va.scratch-size-per-node must be page aligned");
        if (o.DoorbellWindowSize == 0 || o.DoorbellWindowSize % page != 0)
            throw new ArgumentException("va.doorbell-window-size must be a non-zero page multiple");
    }
}
