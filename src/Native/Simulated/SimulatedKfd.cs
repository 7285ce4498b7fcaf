using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Serilog;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// A KFD process simulated in this process: configured topology (default: one CPU node and one W7900-class
/// gfx1100 GPU), real memfd-backed memory at the requested VAs, events that really wait (timed by an injected
/// <see cref="TimeProvider"/>), queues with real doorbell and r/w-pointer pages, and the thunk's status codes for
/// what the KFD refuses. Dispose releases every object; <see cref="Counters"/> then read zero.
/// </summary>
public sealed class SimulatedKfd : IKfd
{
    private static readonly HashSet<ulong> SvmAttributeTypes = [0, 1, 2, 3, 4, 5, 6, 7];

    private readonly object _lock = new();
    private readonly SimulatedKfdOptions _options;
    private readonly SimulatedNode[] _nodes;
    private readonly SimulatedMemory _memory;
    private readonly SimulatedEvents _events;
    private readonly SimulatedQueues _queues;
    private readonly ILogger _log;
    private readonly Dictionary<ulong, (ulong Size, ulong[] Attributes)> _svm = new();
    private readonly HashSet<uint> _spmOwners = new();
    private int _xnack;
    private int _runtimeEnabled;
    private volatile bool _disposed;

    /// <param name="va">Where FixedAddress allocations and the KFD's own pages go; without it FixedAddress is refused.</param>
    public SimulatedKfd(SimulatedKfdOptions? options = null, VaManager? va = null, TimeProvider? time = null, ILogger? log = null)
    {
        _options = options ?? new SimulatedKfdOptions();
        if (_options.Gpus.Count == 0) throw new ArgumentException("the simulated KFD needs at least one GPU");
        if (va is not null && va.Options.GpuNodeCount < _options.Gpus.Count)
            throw new ArgumentException($"VA layout has scratch for {va.Options.GpuNodeCount} GPU nodes, topology has {_options.Gpus.Count}");
        _log = (log ?? Log.Logger).ForContext<SimulatedKfd>();
        _nodes = SimulatedTopology.Build(_options);
        var window = new SimulatedPageWindow(va);
        _memory = new SimulatedMemory(_nodes, va, Counters, _log);
        _events = new SimulatedEvents(window, _options.MaxEvents, Counters, time ?? TimeProvider.System, _log);
        _queues = new SimulatedQueues(_nodes, _memory, _events, window, _options.MaxQueues, Counters, _log);
        _log.Information("Simulated KFD: {Nodes} nodes, GPUs {Gpus}", _nodes.Length,
            string.Join(", ", _options.Gpus.Select(g => $"{g.AmdName} ({g.MarketingName}, {g.ComputeUnits} CUs, {g.VramBytes >> 30} GiB)")));
    }

    public string Name => "simulated";
    private bool Closed => _disposed;
    public KfdCounters Counters { get; } = new();
    public int NodeCount => _nodes.Length;

    /// <summary>Models the GPU writing event slots and raising an interrupt: signals every event whose slot was written.</summary>
    public int RaiseEventInterrupt() => _events.ScanSlots();

    /// <summary>The doorbell value last written for a queue; null for an unknown queue.</summary>
    public ulong? ReadDoorbell(ulong queueHandle) => _queues.ReadDoorbell(queueHandle);

    /// <summary>Whether an event is signaled right now (the thunk has no such call).</summary>
    public bool IsEventSignaled(ulong handle) => _events.IsSignaled(handle);

    // ---- topology and process-wide state

    public HsaStatus GetVersion(out HsaVersionInfo v)
    {
        if (Closed) { v = default; return HsaStatus.KernelIoChannelNotOpened; }
        v = new HsaVersionInfo { KernelInterfaceMajorVersion = _options.KfdMajorVersion, KernelInterfaceMinorVersion = _options.KfdMinorVersion };
        return HsaStatus.Success;
    }

    public HsaStatus AcquireSystemProperties(out HsaSystemProperties p)
    {
        if (Closed) { p = default; return HsaStatus.KernelIoChannelNotOpened; }
        p = new HsaSystemProperties { NumNodes = (uint)_nodes.Length };
        return HsaStatus.Success;
    }

    public HsaStatus GetNodeProperties(uint node, out HsaNodeProperties p)
    {
        if (Closed) { p = default; return HsaStatus.KernelIoChannelNotOpened; }
        p = default;
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        p = _nodes[node].Properties;
        return HsaStatus.Success;
    }

    public HsaStatus GetNodeMemoryProperties(uint node, Span<HsaMemoryProperties> banks)
    {
        if (Closed) { return HsaStatus.KernelIoChannelNotOpened; }
        if (node >= _nodes.Length) return HsaStatus.InvalidParameter;
        banks.Clear();
        var src = _nodes[node].Banks;
        src.AsSpan(0, Math.Min(src.Length, banks.Length)).CopyTo(banks);
        return HsaStatus.Success;
    }

    public HsaStatus GetNodeCacheProperties(uint node, uint processorId, Span<HsaCacheProperties> caches)
    {
        if (Closed) { return HsaStatus.KernelIoChannelNotOpened; }
        if (node >= _nodes.Length || caches.Length > _nodes[node].Caches.Length) return HsaStatus.InvalidParameter;
        _nodes[node].Caches.AsSpan(0, caches.Length).CopyTo(caches);
        return HsaStatus.Success;
    }

    public HsaStatus GetNodeIoLinkProperties(uint node, Span<HsaIoLinkProperties> links)
    {
        if (Closed) { return HsaStatus.KernelIoChannelNotOpened; }
        if (node >= _nodes.Length || links.Length > _nodes[node].IoLinks.Length) return HsaStatus.InvalidParameter;
        _nodes[node].IoLinks.AsSpan(0, links.Length).CopyTo(links);
        return HsaStatus.Success;
    }

    public HsaStatus GetXnackMode(out int mode)
    {
        mode = Volatile.Read(ref _xnack);
        return HsaStatus.Success;
    }

    public HsaStatus SetXnackMode(int mode)
    {
        if (Closed) { return HsaStatus.KernelIoChannelNotOpened; }
        var enable = mode != 0;
        lock (_lock)
        {
            if (enable == (_xnack != 0)) return HsaStatus.Success;
            if (enable && _nodes.Any(n => n.IsGpu && !n.Gpu!.XnackSupported)) return HsaStatus.Error; // amdkfd: -EPERM
            if (_queues.Count > 0) return HsaStatus.Error; // amdkfd: -EBUSY while queues exist
            _xnack = enable ? 1 : 0;
            return HsaStatus.Success;
        }
    }

    public HsaStatus RuntimeEnable(bool setupTtmp)
    {
        if (Closed) { return HsaStatus.KernelIoChannelNotOpened; }
        Interlocked.Increment(ref _runtimeEnabled);
        return HsaStatus.Success;
    }

    public HsaStatus RuntimeDisable()
    {
        lock (_lock)
        {
            if (_runtimeEnabled == 0) return HsaStatus.Error;
            _runtimeEnabled--;
            return HsaStatus.Success;
        }
    }

    public HsaStatus GetClockCounters(uint node, out HsaClockCounters c)
    {
        if (Closed) { c = default; return HsaStatus.KernelIoChannelNotOpened; }
        c = default;
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        // Stopwatch is CLOCK_MONOTONIC in ns on Linux; the GPU timestamp runs at 100 MHz (amdgpu gpu_counter_freq).
        var ns = (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
        c.GPUClockCounter = _nodes[node].IsGpu ? ns / 10 : 0;
        c.CPUClockCounter = ns;
        c.SystemClockCounter = ns;
        c.SystemClockFrequencyHz = 1_000_000_000;
        return HsaStatus.Success;
    }

    public HsaStatus GetRuntimeCapabilities(out uint caps)
    {
        caps = _options.RuntimeCapabilities;
        return HsaStatus.Success;
    }

    public HsaStatus GetTileConfig(uint node, ref HsaGpuTileConfig config, Span<uint> tileConfig, Span<uint> macroTileConfig)
    {
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        if (!_nodes[node].IsGpu) return HsaStatus.Error;
        // gfx10+ has no legacy tile-mode tables: amdgpu reports none, only GB_ADDR_CONFIG.
        config.NumTileConfigs = 0;
        config.NumMacroTileConfigs = 0;
        config.GbAddrConfig = 0x0000_0545;
        config.NumBanks = 0;
        config.NumRanks = 0;
        config.TileConfig = 0;
        config.MacroTileConfig = 0;
        return HsaStatus.Success;
    }

    public HsaStatus QueryPointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes) =>
        _memory.PointerInfo(address, out info, mappedNodes);

    public HsaStatus GetAmdgpuGpuInfo(uint node, out AmdgpuGpuInfo info)
    {
        if (Closed) { info = default; return HsaStatus.KernelIoChannelNotOpened; }
        info = default;
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        if (!_nodes[node].IsGpu) return HsaStatus.InvalidParameter;
        info = _nodes[node].GpuInfo;
        return HsaStatus.Success;
    }

    public HsaStatus AvailableMemory(uint node, out ulong bytes)
    {
        bytes = 0;
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        if (!_nodes[node].IsGpu) return HsaStatus.Error; // the ioctl takes a gpu_id
        bytes = _memory.Available(node);
        return HsaStatus.Success;
    }

    // ---- memory

    public HsaStatus AllocMemory(uint node, ulong size, HsaMemFlags flags, ref ulong address) => _memory.Alloc(node, size, flags, ref address);
    public HsaStatus FreeMemory(ulong address, ulong size) => _memory.Free(address);
    public bool TryGetMemoryBacking(ulong address, ulong length, out MemoryBacking backing) => _memory.TryGetBacking(address, length, out backing);
    public HsaStatus MapMemoryToGpu(ulong address, ulong size, out ulong alternateVaGpu) => _memory.Map(address, size, [], out alternateVaGpu);

    public HsaStatus MapMemoryToGpuNodes(ulong address, ulong size, out ulong alternateVaGpu, uint memMapFlags, ReadOnlySpan<uint> nodes) =>
        _memory.Map(address, size, nodes, out alternateVaGpu);

    public HsaStatus UnmapMemoryToGpu(ulong address) => _memory.Unmap(address);
    public HsaStatus RegisterMemoryWithFlags(ulong address, ulong size, HsaMemFlags flags) => _memory.RegisterUserptr(address, size, flags);
    public HsaStatus DeregisterMemory(ulong address) => _memory.Deregister(address);
    public HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset) => _memory.ExportDmaBuf(address, size, out fd, out offset);
    public HsaStatus ShareMemory(ulong address, ulong size, out U32x8 sharedHandle) => _memory.Share(address, size, out sharedHandle);

    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, out ulong address, out ulong size) =>
        _memory.RegisterShared(sharedHandle, nodes, null, out address, out size);

    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, Func<ulong, ulong> placeVa, out ulong address, out ulong size) =>
        _memory.RegisterShared(sharedHandle, nodes, placeVa, out address, out size);

    public HsaStatus SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, ulong alternateAddress, ulong size)
    {
        if (node >= _nodes.Length || !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        // HSA_CACHING_TYPE: 0 cached, 1 noncached (2 write-combined is not a policy the KFD accepts).
        if (defaultPolicy > 1 || alternatePolicy > 1) return HsaStatus.InvalidParameter;
        return HsaStatus.Success;
    }

    public HsaStatus SvmSetAttr(ulong start, ulong size, ReadOnlySpan<ulong> attributes)
    {
        var page = (ulong)Environment.SystemPageSize;
        if (start == 0 || size == 0 || start % page != 0 || size % page != 0 || start + size < start) return HsaStatus.InvalidParameter;
        foreach (var a in attributes)
            if (!SvmAttributeTypes.Contains(a & 0xFFFF_FFFF)) return HsaStatus.InvalidParameter;
        lock (_lock)
        {
            var current = _svm.TryGetValue(start, out var e) && e.Size == size ? e.Attributes : new ulong[8];
            foreach (var a in attributes) current[a & 0xFFFF_FFFF] = a >> 32;
            _svm[start] = (size, current);
            return HsaStatus.Success;
        }
    }

    public HsaStatus SvmGetAttr(ulong start, ulong size, Span<ulong> attributes)
    {
        var page = (ulong)Environment.SystemPageSize;
        if (start == 0 || size == 0 || start % page != 0 || size % page != 0) return HsaStatus.InvalidParameter;
        lock (_lock)
        {
            var values = _svm.TryGetValue(start, out var e) && e.Size == size ? e.Attributes : new ulong[8];
            for (var i = 0; i < attributes.Length; i++)
            {
                var type = attributes[i] & 0xFFFF_FFFF;
                if (!SvmAttributeTypes.Contains(type)) return HsaStatus.InvalidParameter;
                attributes[i] = type | values[type] << 32;
            }
            return HsaStatus.Success;
        }
    }

    // ---- events

    public HsaStatus CreateEvent(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle)
    {
        ev = default;
        handle = 0;
        if (desc.NodeId >= _nodes.Length) return HsaStatus.InvalidParameter;
        return _events.Create(desc, manualReset, isSignaled, out ev, out handle);
    }

    public HsaStatus DestroyEvent(ulong handle) => _events.Destroy(handle);
    public HsaStatus SetEvent(ulong handle) => _events.Set(handle);
    public HsaStatus ResetEvent(ulong handle) => _events.Reset(handle);
    public HsaStatus QueryEventState(ulong handle) => _events.Query(handle);

    public Task<HsaStatus> WaitOnMultipleEventsAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct) =>
        _events.WaitAsync(handles, waitAll, milliseconds, ct);

    public HsaStatus SetTrapHandler(uint node, ulong handlerBase, ulong handlerSize, ulong bufferBase, ulong bufferSize)
    {
        if (node >= _nodes.Length || !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        if (!_memory.IsInsideObject(handlerBase, handlerSize) || (bufferSize != 0 && !_memory.IsInsideObject(bufferBase, bufferSize)))
            return HsaStatus.Error;
        return HsaStatus.Success;
    }

    // ---- queues

    public HsaStatus CreateQueue(in QueueCreateArgs args, out QueueCreated created) => _queues.Create(args, out created);
    public HsaStatus DestroyQueue(ulong queueHandle) => _queues.Destroy(queueHandle);

    public HsaStatus UpdateQueue(ulong queueHandle, uint percentage, long priority, ulong ringAddress, ulong ringSize) =>
        _queues.Update(queueHandle, percentage, priority, ringAddress, ringSize);

    public HsaStatus GetQueueInfo(ulong queueHandle, out HsaQueueInfo info) => _queues.Info(queueHandle, out info);
    public HsaStatus SetQueueCuMask(ulong queueHandle, ReadOnlySpan<uint> mask) => _queues.SetCuMask(queueHandle, mask);
    public HsaStatus AllocQueueGws(ulong queueHandle, uint nGws, out uint firstGws) => _queues.AllocGws(queueHandle, nGws, out firstGws);

    // ---- graphics interop and SPM

    public HsaStatus RegisterGraphicsHandleToNodes(SafeHandle dmaBufFd, ReadOnlySpan<uint> nodes, uint flags, out HsaGraphicsResourceInfo info, Span<byte> metadata)
    {
        info = default;
        var status = _memory.RegisterGraphics(dmaBufFd, nodes, out var address, out var size, out var node);
        if (status != HsaStatus.Success) return status;
        // Simulated buffers carry no UMD metadata.
        info.MemoryAddress = address;
        info.SizeInBytes = size;
        info.NodeId = node;
        return HsaStatus.Success;
    }

    // SPM (streaming performance monitor): exclusive per node, but no counter stream is simulated, so setting a
    // destination buffer is NOT_SUPPORTED (as on kernels without the SPM ioctl).
    public HsaStatus SpmAcquire(uint node)
    {
        if (node >= _nodes.Length || !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        lock (_lock) return _spmOwners.Add(node) ? HsaStatus.Success : HsaStatus.Error;
    }

    public HsaStatus SpmRelease(uint node)
    {
        if (node >= _nodes.Length || !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        lock (_lock) return _spmOwners.Remove(node) ? HsaStatus.Success : HsaStatus.Error;
    }

    public HsaStatus SpmSetDestBuffer(uint node, uint sizeInBytes, ref uint timeoutMs, out uint sizeCopied, ulong destAddress, out bool isDataLoss)
    {
        sizeCopied = 0;
        isDataLoss = false;
        if (node >= _nodes.Length || !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        return HsaStatus.NotSupported;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _queues.Dispose();
        _events.Dispose();
        _memory.Dispose();
        _log.Information("Simulated KFD disposed");
    }
}
