using System.Numerics;
using Serilog;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// The queue half of the simulated KFD: per GPU node one real doorbell page (memfd, mapped in the VA manager's
/// doorbell window), per queue one 64-bit doorbell slot, and for non-AQL queues a r/w-pointer page (rptr @0,
/// wptr @8). Validation as the thunk (queues.c) and amdkfd: bad node → INVALID_NODE_UNIT, bad type/priority →
/// INVALID_PARAMETER, what the ioctl refuses (percentage, ring size/placement) → ERROR, too many queues →
/// OUT_OF_RESOURCES. Doorbell writes land in real memory (no watcher thread): read them through the page.
/// </summary>
internal sealed class SimulatedQueues : IDisposable
{
    private const long PriorityMin = -3, PriorityMax = 3;
    private static readonly HashSet<uint> SupportedTypes =
        [HsaQueueType.Compute, HsaQueueType.Sdma, HsaQueueType.SdmaXgmi, HsaQueueType.SdmaByEngId, HsaQueueType.ComputeAql];

    private readonly object _lock = new();
    private readonly SimulatedNode[] _nodes;
    private readonly SimulatedMemory _memory;
    private readonly SimulatedEvents _events;
    private readonly SimulatedPageWindow _window;
    private readonly KfdCounters _counters;
    private readonly ILogger _log;
    private readonly int _maxQueues;
    private readonly Dictionary<ulong, SimQueue> _queues = new();
    private readonly Dictionary<uint, DoorbellPage> _doorbells = new();
    private ulong _nextHandle;
    private ulong _gwsOwner;
    private bool _disposed;

    public SimulatedQueues(SimulatedNode[] nodes, SimulatedMemory memory, SimulatedEvents events, SimulatedPageWindow window,
        int maxQueues, KfdCounters counters, ILogger log)
    {
        _nodes = nodes;
        _memory = memory;
        _events = events;
        _window = window;
        _maxQueues = maxQueues;
        _counters = counters;
        _log = log;
    }

    public int Count
    {
        get { lock (_lock) return _queues.Count; }
    }

    public HsaStatus Create(in QueueCreateArgs a, out QueueCreated created)
    {
        created = null!;
        if (a.NodeId >= _nodes.Length || !_nodes[a.NodeId].IsGpu) return HsaStatus.InvalidNodeUnit;
        var gpu = _nodes[a.NodeId].Gpu!;
        if (!SupportedTypes.Contains(a.Type)) return HsaStatus.InvalidParameter;
        if (a.Priority < PriorityMin || a.Priority > PriorityMax) return HsaStatus.InvalidParameter;
        if (a.SdmaEngineId != QueueCreateArgs.AnySdmaEngine &&
            (a.Type != HsaQueueType.SdmaByEngId || a.SdmaEngineId >= gpu.NumSdmaEngines)) return HsaStatus.InvalidParameter;
        if (a.Type == HsaQueueType.SdmaByEngId && a.SdmaEngineId == QueueCreateArgs.AnySdmaEngine) return HsaStatus.InvalidParameter;
        if (a.EventHandle != 0 && !_events.Exists(a.EventHandle)) return HsaStatus.InvalidHandle;
        var ringError = CheckRing(a.Percentage, a.RingAddress, a.RingSize);
        if (ringError != HsaStatus.Success) return ringError;
        var aql = HsaQueueType.IsAql(a.Type);
        if (aql && (!_memory.IsInsideObject(a.ReadPtrAddress, 8) || !_memory.IsInsideObject(a.WritePtrAddress, 8)))
        {
            _log.Debug("CreateQueue: AQL r/w pointers {Rptr:x}/{Wptr:x} outside KFD memory", a.ReadPtrAddress, a.WritePtrAddress);
            return HsaStatus.Error;
        }

        lock (_lock)
        {
            if (_disposed) return HsaStatus.KernelIoChannelNotOpened;
            if (_queues.Count >= _maxQueues) return HsaStatus.OutOfResources;
            Memfd? rwFile = null;
            MappedRegion? rw = null;
            DoorbellPage? page;
            try
            {
                page = DoorbellPageFor(a.NodeId, gpu);
                if (page is null) return HsaStatus.NoMemory;
                if (!aql)
                {
                    rwFile = Memfd.Create("vhsakmt-kfd-rwptr", (ulong)Environment.SystemPageSize);
                    rw = _window.Map(rwFile);
                    if (rw is null) { rwFile.Dispose(); return HsaStatus.NoMemory; }
                }
            }
            catch (LibcException e)
            {
                _log.Warning("CreateQueue node {Node}: {Error}", a.NodeId, e.Message);
                rw?.Dispose();
                rwFile?.Dispose();
                return HsaStatus.NoMemory;
            }
            var slot = Array.IndexOf(page.SlotUsed, false);
            if (slot < 0)
            {
                rw?.Dispose();
                rwFile?.Dispose();
                return HsaStatus.OutOfResources;
            }
            page.SlotUsed[slot] = true;
            var q = new SimQueue
            {
                Handle = ++_nextHandle, Node = a.NodeId, Type = a.Type, Slot = slot, RwFile = rwFile, Rw = rw,
                Percentage = a.Percentage, Priority = a.Priority, RingAddress = a.RingAddress, RingSize = a.RingSize,
                CuCount = gpu.ComputeUnits,
            };
            _queues.Add(q.Handle, q);
            _counters.AddQueues(1);
            page.Region.U64((ulong)slot * 8) = 0;

            var resource = new HsaQueueResource
            {
                QueueId = q.Handle,
                QueueDoorBell = page.Region.Address + (ulong)slot * 8,
                QueueWptrValue = aql ? a.WritePtrAddress : rw!.Address + 8,
                QueueRptrValue = aql ? a.ReadPtrAddress : rw!.Address,
            };
            created = new QueueCreated(q.Handle, resource, page.Region.Address, page.Region.Length,
                new MemoryBacking(page.File, 0, page.File.Size),
                rwFile is null ? null : new MemoryBacking(rwFile, 0, rwFile.Size));
            return HsaStatus.Success;
        }
    }

    public HsaStatus Destroy(ulong handle)
    {
        lock (_lock)
        {
            if (!_queues.Remove(handle, out var q)) return HsaStatus.InvalidHandle;
            _doorbells[q.Node].SlotUsed[q.Slot] = false;
            if (_gwsOwner == handle) _gwsOwner = 0;
            q.Rw?.Dispose();
            q.RwFile?.Dispose();
            _counters.AddQueues(-1);
            return HsaStatus.Success;
        }
    }

    public HsaStatus Update(ulong handle, uint percentage, long priority, ulong ringAddress, ulong ringSize)
    {
        if (priority < PriorityMin || priority > PriorityMax) return HsaStatus.InvalidParameter;
        var ringError = CheckRing(percentage, ringAddress, ringSize);
        lock (_lock)
        {
            if (!_queues.TryGetValue(handle, out var q)) return HsaStatus.InvalidHandle;
            if (ringError != HsaStatus.Success) return ringError;
            q.Percentage = percentage;
            q.Priority = priority;
            q.RingAddress = ringAddress;
            q.RingSize = ringSize;
            return HsaStatus.Success;
        }
    }

    public HsaStatus Info(ulong handle, out HsaQueueInfo info)
    {
        info = default;
        lock (_lock)
        {
            if (!_queues.TryGetValue(handle, out var q)) return HsaStatus.InvalidHandle;
            info.QueueTypeExtended = q.Type;
            info.NumCUAssigned = q.CuMask is null
                ? q.CuCount
                : (uint)q.CuMask.Select((m, i) => BitOperations.PopCount(i * 32 >= q.CuCount ? 0 : m & CuLimitMask(q.CuCount, i))).Sum();
            return HsaStatus.Success;
        }
    }

    public HsaStatus SetCuMask(ulong handle, ReadOnlySpan<uint> mask)
    {
        if (mask.IsEmpty) return HsaStatus.InvalidParameter;
        lock (_lock)
        {
            if (!_queues.TryGetValue(handle, out var q)) return HsaStatus.InvalidHandle;
            q.CuMask = mask.ToArray();
            return HsaStatus.Success;
        }
    }

    public HsaStatus AllocGws(ulong handle, uint count, out uint first)
    {
        first = 0;
        lock (_lock)
        {
            if (!_queues.TryGetValue(handle, out var q)) return HsaStatus.InvalidHandle;
            var gws = _nodes[q.Node].Gpu!.NumGws;
            if (gws == 0) return HsaStatus.Error;                     // amdkfd: -ENODEV, no GWS on this GPU
            if (count == 0 || count > gws) return HsaStatus.InvalidParameter;
            if (_gwsOwner != 0 && _gwsOwner != handle) return HsaStatus.Error; // -EBUSY: one GWS queue per process
            _gwsOwner = handle;
            return HsaStatus.Success;
        }
    }

    /// <summary>The doorbell value last written for a queue (tests, diagnostics); null for an unknown queue.</summary>
    public ulong? ReadDoorbell(ulong handle)
    {
        lock (_lock)
            return _queues.TryGetValue(handle, out var q) ? Volatile.Read(ref _doorbells[q.Node].Region.U64((ulong)q.Slot * 8)) : null;
    }

    private HsaStatus CheckRing(uint percentage, ulong ringAddress, ulong ringSize)
    {
        if (percentage > 100) return HsaStatus.Error;
        if (ringSize == 0 && ringAddress == 0) return HsaStatus.Success; // amdkfd allows an inactive queue
        if (!BitOperations.IsPow2(ringSize) || ringSize < 1024 || !_memory.IsInsideObject(ringAddress, ringSize))
        {
            _log.Debug("Queue ring {Ring:x}+{Size:x} refused: not a power of two >= 1 KiB inside KFD memory", ringAddress, ringSize);
            return HsaStatus.Error;
        }
        return HsaStatus.Success;
    }

    private static uint CuLimitMask(uint cuCount, int word)
    {
        var bits = (int)cuCount - word * 32;
        return bits >= 32 ? uint.MaxValue : (1u << bits) - 1;
    }

    // Under _lock: the node's doorbell page, created with the node's first queue and kept for the process lifetime.
    private DoorbellPage? DoorbellPageFor(uint node, SimulatedGpuOptions gpu)
    {
        if (_doorbells.TryGetValue(node, out var page)) return page;
        var file = Memfd.Create($"vhsakmt-kfd-doorbell-{node}", gpu.DoorbellPageBytes);
        MappedRegion? region;
        try
        {
            region = _window.Map(file);
        }
        catch (LibcException)
        {
            file.Dispose();
            throw;
        }
        if (region is null) { file.Dispose(); return null; }
        page = new DoorbellPage(file, region, new bool[gpu.DoorbellPageBytes / 8]);
        _doorbells.Add(node, page);
        _log.Debug("Simulated KFD doorbell page for node {Node} at {Address:x}", node, region.Address);
        return page;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var q in _queues.Values)
            {
                q.Rw?.Dispose();
                q.RwFile?.Dispose();
            }
            _counters.AddQueues(-_queues.Count);
            _queues.Clear();
            foreach (var p in _doorbells.Values)
            {
                p.Region.Dispose();
                p.File.Dispose();
            }
            _doorbells.Clear();
        }
    }

    private sealed record DoorbellPage(Memfd File, MappedRegion Region, bool[] SlotUsed);

    private sealed class SimQueue
    {
        public required ulong Handle { get; init; }
        public required uint Node { get; init; }
        public required uint Type { get; init; }
        public required int Slot { get; init; }
        public required uint CuCount { get; init; }
        public Memfd? RwFile { get; init; }
        public MappedRegion? Rw { get; init; }
        public uint Percentage { get; set; }
        public long Priority { get; set; }
        public ulong RingAddress { get; set; }
        public ulong RingSize { get; set; }
        public uint[]? CuMask { get; set; }
    }
}
