using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VhsaKmt.Native;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Actors.Tests.Support;

/// <summary>
/// Test IKfd: records every call in order (name + key argument), answers like a small KFD (node 0 CPU, node 1 GPU
/// with 96 CUs), keeps counters, and lets a test inject a status or an exception per call name.
/// Memory is book-kept only (no pages mapped); mappable backings point into one memfd.
/// </summary>
public sealed class RecordingKfd : IKfd
{
    private readonly object _sync = new();
    private readonly Memfd _backing = Memfd.Create("recording-kfd", 64UL << 20);
    private readonly Dictionary<ulong, ulong> _allocs = new();
    private readonly HashSet<ulong> _events = new();
    private readonly HashSet<ulong> _queues = new();
    private readonly Dictionary<ulong, int> _mapped = new();
    private long _next = 0x5000;

    public string Name => "recording";
    public KfdCounters Counters { get; } = new();
    public List<string> Calls { get; } = new();
    public Dictionary<string, HsaStatus> Fail { get; } = new();
    public Dictionary<string, Func<Exception>> Throw { get; } = new();
    public int XnackMode { get; private set; }
    public bool NullDoorbell { get; set; }
    public const ulong DoorbellPage = 0x7f00_0000_0000;

    private HsaStatus Call(string name, string? arg = null)
    {
        lock (_sync) Calls.Add(arg is null ? name : $"{name}({arg})");
        if (Throw.TryGetValue(name, out var ex)) throw ex();
        return Fail.TryGetValue(name, out var st) ? st : HsaStatus.Success;
    }

    public string[] CallsNamed(string prefix) { lock (_sync) return Calls.Where(c => c.StartsWith(prefix)).ToArray(); }
    public int IndexOf(string call) { lock (_sync) return Calls.IndexOf(call); }

    public HsaStatus GetVersion(out HsaVersionInfo v) { v = new HsaVersionInfo { KernelInterfaceMajorVersion = 1, KernelInterfaceMinorVersion = 14 }; return Call("GetVersion"); }
    public HsaStatus AcquireSystemProperties(out HsaSystemProperties p) { p = new HsaSystemProperties { NumNodes = 2, PlatformOem = 7 }; return Call("AcquireSystemProperties"); }

    public HsaStatus GetNodeProperties(uint node, out HsaNodeProperties p)
    {
        p = default;
        if (node >= 2) return HsaStatus.InvalidNodeUnit;
        if (node == 0) p.NumCPUCores = 16;
        else { p.NumFComputeCores = 192; p.NumSIMDPerCU = 2; p.KFDGpuID = 0xabcd; p.NumMemoryBanks = 1; p.NumCaches = 3; p.NumIOLinks = 1; }
        return Call("GetNodeProperties", node.ToString());
    }

    public HsaStatus GetNodeMemoryProperties(uint node, Span<HsaMemoryProperties> banks)
    {
        for (int i = 0; i < banks.Length; i++) banks[i] = default;
        if (banks.Length > 0) MemoryMarshal.AsBytes(banks)[0] = 0xB1;
        return Call("GetNodeMemoryProperties", $"{node},{banks.Length}");
    }

    public HsaStatus GetNodeCacheProperties(uint node, uint processorId, Span<HsaCacheProperties> caches)
    {
        if (caches.Length > 0) MemoryMarshal.AsBytes(caches)[0] = 0xC1;
        return Call("GetNodeCacheProperties", $"{node},{caches.Length}");
    }

    public HsaStatus GetNodeIoLinkProperties(uint node, Span<HsaIoLinkProperties> links)
    {
        if (links.Length > 0) MemoryMarshal.AsBytes(links)[0] = 0x11;
        return Call("GetNodeIoLinkProperties", $"{node},{links.Length}");
    }

    public HsaStatus GetXnackMode(out int mode) { mode = XnackMode; return Call("GetXnackMode"); }
    public HsaStatus SetXnackMode(int mode) { var st = Call("SetXnackMode", mode.ToString()); if (st == 0) XnackMode = mode; return st; }
    public HsaStatus RuntimeEnable(bool setupTtmp) => Call("RuntimeEnable", setupTtmp.ToString());
    public HsaStatus RuntimeDisable() => Call("RuntimeDisable");
    public HsaStatus GetClockCounters(uint node, out HsaClockCounters c) { c = new HsaClockCounters { GPUClockCounter = 42 }; return Call("GetClockCounters", node.ToString()); }
    public HsaStatus GetRuntimeCapabilities(out uint caps) { caps = 0x5; return Call("GetRuntimeCapabilities"); }

    public HsaStatus GetTileConfig(uint node, ref HsaGpuTileConfig config, Span<uint> tileConfig, Span<uint> macroTileConfig)
    {
        tileConfig.Fill(0x77);
        macroTileConfig.Fill(0x88);
        config.GbAddrConfig = 0x1234;
        config.TileConfig = 0xdead; // a host pointer the handler must not forward
        return Call("GetTileConfig", $"{node},{tileConfig.Length},{macroTileConfig.Length}");
    }

    public HsaStatus QueryPointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes)
    {
        info = new HsaPointerInfo { Type = 1, NMappedNodes = 5, CPUAddress = 0x7fff_0000_1000, UserData = 0x55aa, MappedNodes = 0xbeef, GPUAddress = address };
        for (int i = 0; i < Math.Min(5, mappedNodes.Length); i++) mappedNodes[i] = (uint)(10 + i);
        return Call("QueryPointerInfo", $"0x{address:x}");
    }

    public HsaStatus GetAmdgpuGpuInfo(uint node, out AmdgpuGpuInfo info) { info = default; info.asic_id = 0x7448; return Call("GetAmdgpuGpuInfo", node.ToString()); }
    public HsaStatus AvailableMemory(uint node, out ulong bytes) { bytes = 1UL << 33; return Call("AvailableMemory", node.ToString()); }

    public HsaStatus AllocMemory(uint node, ulong size, HsaMemFlags flags, ref ulong address)
    {
        var st = Call("AllocMemory", $"0x{address:x},0x{size:x}");
        if (st != HsaStatus.Success) return st;
        if (flags.Has(HsaMemFlags.NoAddress)) address = (ulong)Interlocked.Increment(ref _next);
        lock (_sync) _allocs[address] = size;
        Counters.AddAllocations(1);
        return st;
    }

    public HsaStatus FreeMemory(ulong address, ulong size)
    {
        var st = Call("FreeMemory", $"0x{address:x}");
        lock (_sync)
        {
            if (!_allocs.Remove(address)) return HsaStatus.MemoryNotRegistered;
            if (_mapped.Remove(address, out int n)) Counters.AddMappings(-n);
        }
        Counters.AddAllocations(-1);
        return st;
    }

    public bool TryGetMemoryBacking(ulong address, ulong length, out MemoryBacking backing)
    {
        lock (_sync)
        {
            backing = null!;
            if (!_allocs.TryGetValue(address, out var size) || length > ((size + 4095) & ~4095UL)) return false;
            backing = new MemoryBacking(_backing, 0, length);
            return true;
        }
    }

    private HsaStatus Map(string name, ulong address)
    {
        var st = Call(name, $"0x{address:x}");
        if (st != HsaStatus.Success) return st;
        lock (_sync) _mapped[address] = _mapped.GetValueOrDefault(address) + 1;
        Counters.AddMappings(1);
        return st;
    }

    public HsaStatus MapMemoryToGpu(ulong address, ulong size, out ulong alternateVaGpu) { alternateVaGpu = address; return Map("MapMemoryToGpu", address); }
    public HsaStatus MapMemoryToGpuNodes(ulong address, ulong size, out ulong alternateVaGpu, uint memMapFlags, ReadOnlySpan<uint> nodes) { alternateVaGpu = address; return Map("MapMemoryToGpuNodes", address); }

    public HsaStatus UnmapMemoryToGpu(ulong address)
    {
        var st = Call("UnmapMemoryToGpu", $"0x{address:x}");
        lock (_sync)
        {
            if (!_mapped.TryGetValue(address, out int n)) return HsaStatus.Error;
            if (n == 1) _mapped.Remove(address); else _mapped[address] = n - 1;
        }
        Counters.AddMappings(-1);
        return st;
    }

    public HsaStatus RegisterMemoryWithFlags(ulong address, ulong size, HsaMemFlags flags)
    {
        var st = Call("RegisterMemoryWithFlags", $"0x{address:x},0x{size:x}");
        if (st == 0) Counters.AddRegistrations(1);
        return st;
    }

    public HsaStatus DeregisterMemory(ulong address)
    {
        var st = Call("DeregisterMemory", $"0x{address:x}");
        if (st == 0) Counters.AddRegistrations(-1);
        return st;
    }

    public HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset)
    {
        fd = FileDescriptors.Duplicate(_backing);
        offset = 0x40;
        return Call("ExportDmaBuf", $"0x{address:x}");
    }

    public HsaStatus ShareMemory(ulong address, ulong size, out U32x8 sharedHandle) { sharedHandle = default; sharedHandle[0] = 0x5a; return Call("ShareMemory", $"0x{address:x}"); }

    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, out ulong address, out ulong size)
    { address = 0x7e00_0000_0000; size = 0x10000; return Call("RegisterSharedHandleToNodes"); }

    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, Func<ulong, ulong> placeVa, out ulong address, out ulong size)
    {
        size = 0x10000;
        address = placeVa(size);
        var st = Call("RegisterSharedHandleToNodes", $"0x{address:x}");
        if (st != 0) return st;
        if (address == 0) return HsaStatus.NoMemory;
        lock (_sync) _allocs[address] = size;
        Counters.AddAllocations(1);
        return st;
    }

    public HsaStatus SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, ulong alternateAddress, ulong size) => Call("SetMemoryPolicy", node.ToString());
    public HsaStatus SvmSetAttr(ulong start, ulong size, ReadOnlySpan<ulong> attributes) => Call("SvmSetAttr", $"0x{start:x},{attributes.Length}");
    public HsaStatus SvmGetAttr(ulong start, ulong size, Span<ulong> attributes) { attributes.Fill(0x99); return Call("SvmGetAttr", $"0x{start:x},{attributes.Length}"); }

    public HsaStatus CreateEvent(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle)
    {
        handle = (ulong)Interlocked.Increment(ref _next);
        ev = new HsaEvent { EventId = (uint)handle };
        var st = Call("CreateEvent", $"type={desc.EventType},user=0x{desc.SyncVar.SyncVar:x}");
        if (st != 0) return st;
        lock (_sync) _events.Add(handle);
        Counters.AddEvents(1);
        return st;
    }

    public HsaStatus DestroyEvent(ulong handle)
    {
        var st = Call("DestroyEvent", $"0x{handle:x}");
        lock (_sync) if (!_events.Remove(handle)) return HsaStatus.InvalidHandle;
        Counters.AddEvents(-1);
        return st;
    }

    private HsaStatus EventOp(string name, ulong handle)
    {
        var st = Call(name, $"0x{handle:x}");
        lock (_sync) return _events.Contains(handle) ? st : HsaStatus.InvalidHandle;
    }

    public HsaStatus SetEvent(ulong handle) => EventOp("SetEvent", handle);
    public HsaStatus ResetEvent(ulong handle) => EventOp("ResetEvent", handle);
    public HsaStatus QueryEventState(ulong handle) => EventOp("QueryEventState", handle);
    public Task<HsaStatus> WaitOnMultipleEventsAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct) => Task.FromResult(Call("Wait"));
    public HsaStatus SetTrapHandler(uint node, ulong handlerBase, ulong handlerSize, ulong bufferBase, ulong bufferSize) => Call("SetTrapHandler", $"0x{handlerBase:x}");

    public HsaStatus CreateQueue(in QueueCreateArgs args, out QueueCreated created)
    {
        created = null!;
        var st = Call("CreateQueue", $"ring=0x{args.RingAddress:x},event=0x{args.EventHandle:x}");
        if (st != 0) return st;
        ulong handle = (ulong)Interlocked.Increment(ref _next);
        bool aql = HsaQueueType.IsAql(args.Type);
        ulong rwPage = DoorbellPage + 0x10000 + handle * 0x1000;
        var res = new HsaQueueResource
        {
            QueueId = handle,
            QueueDoorBell = NullDoorbell ? 0 : DoorbellPage + 8 * (handle & 0xff),
            QueueWptrValue = aql ? args.WritePtrAddress : rwPage + 0x38,
            QueueRptrValue = aql ? args.ReadPtrAddress : rwPage + 0x80,
            ErrorReason = 0xffff_8000_0000,
        };
        created = new QueueCreated(handle, res, DoorbellPage, 0x2000, new MemoryBacking(_backing, 0x100000, 0x2000),
            aql ? null : new MemoryBacking(_backing, 0x200000, 0x1000));
        lock (_sync) _queues.Add(handle);
        Counters.AddQueues(1);
        return st;
    }

    public HsaStatus DestroyQueue(ulong queueHandle)
    {
        var st = Call("DestroyQueue", $"0x{queueHandle:x}");
        lock (_sync) if (!_queues.Remove(queueHandle)) return HsaStatus.InvalidHandle;
        Counters.AddQueues(-1);
        return st;
    }

    public HsaStatus UpdateQueue(ulong queueHandle, uint percentage, long priority, ulong ringAddress, ulong ringSize) => Call("UpdateQueue", $"0x{ringAddress:x}");
    public HsaStatus GetQueueInfo(ulong queueHandle, out HsaQueueInfo info) { info = new HsaQueueInfo { NumCUAssigned = 96, CUMaskInfo = 0xffff_0000_0000 }; return Call("GetQueueInfo"); }
    public HsaStatus SetQueueCuMask(ulong queueHandle, ReadOnlySpan<uint> mask) => Call("SetQueueCuMask", mask.Length.ToString());
    public HsaStatus AllocQueueGws(ulong queueHandle, uint nGws, out uint firstGws) { firstGws = 3; return Call("AllocQueueGws", nGws.ToString()); }

    public HsaStatus RegisterGraphicsHandleToNodes(SafeHandle dmaBufFd, ReadOnlySpan<uint> nodes, uint flags, out HsaGraphicsResourceInfo info, Span<byte> metadata)
    {
        info = new HsaGraphicsResourceInfo { MemoryAddress = 0x1234000, SizeInBytes = 0x1000, Metadata = 0xffff, MetadataSizeInBytes = 0x200, NodeId = 1 };
        metadata.Fill(0x6d);
        return Call("RegisterGraphicsHandleToNodes");
    }

    public HsaStatus SpmAcquire(uint node) => Call("SpmAcquire", node.ToString());
    public HsaStatus SpmRelease(uint node) => Call("SpmRelease", node.ToString());

    public HsaStatus SpmSetDestBuffer(uint node, uint sizeInBytes, ref uint timeoutMs, out uint sizeCopied, ulong destAddress, out bool isDataLoss)
    {
        sizeCopied = sizeInBytes;
        isDataLoss = false;
        timeoutMs = 7;
        bool alloc;
        lock (_sync) alloc = _allocs.ContainsKey(destAddress);
        if (!alloc) Marshal.WriteByte((nint)destAddress, 0x5e); // the handler's (pinned) temporary buffer
        return Call("SpmSetDestBuffer", $"{sizeInBytes}");
    }

    public void Dispose() => _backing.Dispose();
}
