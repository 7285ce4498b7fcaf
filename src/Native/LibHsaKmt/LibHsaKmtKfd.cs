using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Serilog;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.LibHsaKmt.Abi;
using VhsaKmt.Native.Va;
using static VhsaKmt.Native.LibHsaKmt.HsaKmtNative;

namespace VhsaKmt.Native.LibHsaKmt;

/// <summary>
/// IKfd over the host's libhsakmt.so.1. Every call is serialised through <see cref="HsaKmtGate"/> (libhsakmt is
/// process-global); the event wait runs outside it in 50 ms slices so it neither blocks other calls nor resists
/// cancellation. Structs whose layout differs in the host's ABI profile are converted field by field
/// (<see cref="D523Conversion"/>). Thunk-owned pointers (events, queues, metadata, node arrays) never leave this
/// class: callers see opaque handles and copies. Entry points the installed library lacks answer NOT_SUPPORTED.
/// </summary>
public sealed unsafe class LibHsaKmtKfd : IKfd
{
    private const uint WaitSliceMs = 50;
    private readonly ILogger _log;
    private readonly LibHsaKmtProbe _probe;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, nint> _events = new();
    private readonly Dictionary<ulong, int> _eventWaits = new();
    private readonly Dictionary<ulong, ulong> _queues = new();
    private readonly Dictionary<string, SafeFileHandle> _backingFiles = new();
    private readonly HashSet<ulong> _allocations = new(), _registrations = new();
    private readonly Dictionary<ulong, VaBacking> _unreserved = new();
    private readonly VaManager? _va;
    private ulong _nextHandle;
    private bool _disposed;

    private readonly bool _opened;

    private LibHsaKmtKfd(LibHsaKmtProbe probe, VaManager? va, ILogger log, bool opened)
    {
        _opened = opened;
        _probe = probe;
        _va = va;
        _log = log;
    }

    public string Name => "libhsakmt";
    public KfdCounters Counters { get; } = new();
    public HsaAbiProfile Profile => _probe.Profile;

    /// <summary>
    /// hsaKmtOpenKFD through the gate. Returns the thunk's status (KERNEL_IO_CHANNEL_NOT_OPENED without /dev/kfd);
    /// <paramref name="kfd"/> is set only on success. Throws only if the library itself cannot be loaded.
    /// </summary>
    /// <param name="va">The reserved device VA area: FixedAddress allocations inside it are unreserved just before the
    /// thunk maps them and re-reserved after they are freed (PROTOCOL.md §6.3 host reservation discipline).</param>
    public static HsaStatus TryOpen(LibHsaKmtProbe probe, ILogger? log, out LibHsaKmtKfd? kfd, VaManager? va = null)
    {
        var logger = (log ?? Log.Logger).ForContext<LibHsaKmtKfd>();
        kfd = null;
        if (!probe.Loaded || probe.MissingRequired.Count > 0)
            throw new InvalidOperationException(probe.Reason);
        HsaStatus status;
        lock (HsaKmtGate.Lock) status = (HsaStatus)OpenKFD();
        if (status != HsaStatus.Success)
        {
            logger.Warning("hsaKmtOpenKFD failed with {Status} ({Reason})", status, probe.DeviceError ?? "see libhsakmt output");
            return status;
        }
        logger.Information("libhsakmt opened (ABI profile {Profile}, optional entry points: {Optional})",
            probe.Profile, string.Join(", ", probe.AvailableOptional));
        kfd = new LibHsaKmtKfd(probe, va, logger, opened: true);
        return status;
    }

    /// <summary>
    /// A binding over the library without hsaKmtOpenKFD: every call reaches the thunk, which answers
    /// KERNEL_IO_CHANNEL_NOT_OPENED. Used to prove the binding (marshalling, gate) on machines without /dev/kfd.
    /// </summary>
    internal static LibHsaKmtKfd Unopened(LibHsaKmtProbe probe, ILogger? log) =>
        new(probe, null, (log ?? Log.Logger).ForContext<LibHsaKmtKfd>(), opened: false);

    private static HsaStatus Call(Func<int> f)
    {
        lock (HsaKmtGate.Lock) return (HsaStatus)f();
    }

    private HsaStatus Optional(string export, Func<int> f) => _probe.Has(export) ? Call(f) : HsaStatus.NotSupported;

    // ---- topology and process-wide state

    public HsaStatus GetVersion(out HsaVersionInfo v)
    {
        HsaVersionInfo r = default;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetVersion(&r);
        v = r;
        return s;
    }

    public HsaStatus AcquireSystemProperties(out HsaSystemProperties p)
    {
        HsaSystemProperties r = default;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.AcquireSystemProperties(&r);
        p = r;
        return s;
    }

    public HsaStatus GetNodeProperties(uint node, out HsaNodeProperties p)
    {
        HsaNodeProperties r = default;
        HsaStatus s;
        if (Profile == HsaAbiProfile.D523)
        {
            D523NodeProperties d = default;
            lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetNodeProperties(node, &d);
            if (s == HsaStatus.Success) r = D523Conversion.ToH25(d, node);
        }
        else
        {
            lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetNodeProperties(node, &r);
        }
        p = r;
        return s;
    }

    public HsaStatus GetNodeMemoryProperties(uint node, Span<HsaMemoryProperties> banks)
    {
        fixed (HsaMemoryProperties* p = banks)
        {
            var ptr = p;
            var n = (uint)banks.Length;
            return Call(() => HsaKmtNative.GetNodeMemoryProperties(node, n, ptr));
        }
    }

    public HsaStatus GetNodeCacheProperties(uint node, uint processorId, Span<HsaCacheProperties> caches)
    {
        fixed (HsaCacheProperties* p = caches)
        {
            var ptr = p;
            var n = (uint)caches.Length;
            return Call(() => HsaKmtNative.GetNodeCacheProperties(node, processorId, n, ptr));
        }
    }

    public HsaStatus GetNodeIoLinkProperties(uint node, Span<HsaIoLinkProperties> links)
    {
        var n = (uint)links.Length;
        if (Profile == HsaAbiProfile.H25)
            fixed (HsaIoLinkProperties* p = links)
            {
                var ptr = p;
                return Call(() => HsaKmtNative.GetNodeIoLinkProperties(node, n, ptr));
            }
        var host = new D523IoLinkProperties[links.Length];
        HsaStatus s;
        fixed (D523IoLinkProperties* p = host)
        {
            var ptr = p;
            lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetNodeIoLinkProperties(node, n, ptr);
        }
        if (s == HsaStatus.Success)
            for (var i = 0; i < host.Length; i++) links[i] = D523Conversion.ToH25(host[i]);
        return s;
    }

    public HsaStatus GetXnackMode(out int mode)
    {
        int r = 0;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)GetXNACKMode(&r);
        mode = r;
        return s;
    }

    public HsaStatus SetXnackMode(int mode) => Call(() => SetXNACKMode(mode));
    public HsaStatus RuntimeEnable(bool setupTtmp) => Call(() => HsaKmtNative.RuntimeEnable(null, setupTtmp));
    public HsaStatus RuntimeDisable() => Call(HsaKmtNative.RuntimeDisable);

    public HsaStatus GetClockCounters(uint node, out HsaClockCounters c)
    {
        HsaClockCounters r = default;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetClockCounters(node, &r);
        c = r;
        return s;
    }

    public HsaStatus GetRuntimeCapabilities(out uint caps)
    {
        uint r = 0;
        var s = HsaStatus.NotSupported;
        if (_probe.Has("hsaKmtGetRuntimeCapabilities")) lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetRuntimeCapabilities(&r);
        caps = r;
        return s;
    }

    public HsaStatus GetTileConfig(uint node, ref HsaGpuTileConfig config, Span<uint> tileConfig, Span<uint> macroTileConfig)
    {
        var c = config;
        c.NumTileConfigs = Math.Min(c.NumTileConfigs, (uint)tileConfig.Length);
        c.NumMacroTileConfigs = Math.Min(c.NumMacroTileConfigs, (uint)macroTileConfig.Length);
        HsaStatus s;
        fixed (uint* t = tileConfig)
        fixed (uint* m = macroTileConfig)
        {
            c.TileConfig = (ulong)t;
            c.MacroTileConfig = (ulong)m;
            lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetTileConfig(node, &c);
        }
        c.TileConfig = 0; // our own pointers: never hand them on
        c.MacroTileConfig = 0;
        config = c;
        return s;
    }

    public HsaStatus QueryPointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes)
    {
        HsaPointerInfo r = default;
        HsaStatus s;
        lock (HsaKmtGate.Lock)
        {
            s = (HsaStatus)HsaKmtNative.QueryPointerInfo((void*)address, &r);
            // MappedNodes points into thunk memory that is only stable under the gate: copy now.
            if (s == HsaStatus.Success && r.MappedNodes != 0)
                new ReadOnlySpan<uint>((void*)r.MappedNodes, (int)Math.Min(r.NMappedNodes, (uint)mappedNodes.Length)).CopyTo(mappedNodes);
        }
        r.MappedNodes = 0;
        r.RegisteredNodes = 0;
        r.UserData = 0;
        info = r;
        return s;
    }

    public HsaStatus GetAmdgpuGpuInfo(uint node, out AmdgpuGpuInfo info)
    {
        // Needs libdrm_amdgpu on the node's render device (hsaKmtGetAMDGPUDeviceHandle is absent in 5.2.3).
        info = default;
        return HsaStatus.NotSupported;
    }

    public HsaStatus AvailableMemory(uint node, out ulong bytes)
    {
        ulong r = 0;
        var s = HsaStatus.NotSupported;
        if (_probe.Has("hsaKmtAvailableMemory")) lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.AvailableMemory(node, &r);
        bytes = r;
        return s;
    }

    // ---- memory

    public HsaStatus AllocMemory(uint node, ulong size, HsaMemFlags flags, ref ulong address)
    {
        if (!TryHostFlags(ref flags)) return HsaStatus.NotSupported;
        void* a = (void*)address;
        VaBacking? backing = null;
        if (flags.Has(HsaMemFlags.FixedAddress) && _va is not null && _va.Covers(address, size))
        {
            // The thunk maps at the fixed VA itself; our PROT_NONE reservation must step aside for it.
            backing = _va.TryBack(address, size);
            if (backing is null) return HsaStatus.NoMemory;
            Mmap.Unmap(address, size);
        }
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.AllocMemory(node, size, flags.Value, &a);
        if (s == HsaStatus.Success && backing is not null && (ulong)a != address)
        {
            _log.Error("hsaKmtAllocMemory ignored FixedAddress {Want:x} and returned {Got:x}; freeing it", address, (ulong)a);
            var wrong = a;
            lock (HsaKmtGate.Lock) HsaKmtNative.FreeMemory(wrong, size);
            s = HsaStatus.NoMemory;
        }
        if (s != HsaStatus.Success)
        {
            if (backing is not null) _va!.Unback(backing);
            return s;
        }
        address = (ulong)a;
        lock (_lock)
        {
            _allocations.Add(address);
            if (backing is not null) _unreserved[address] = backing;
        }
        Counters.AddAllocations(1);
        return s;
    }

    public HsaStatus FreeMemory(ulong address, ulong size)
    {
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.FreeMemory((void*)address, size);
        if (s == HsaStatus.Success)
        {
            VaBacking? backing;
            lock (_lock)
            {
                if (_allocations.Remove(address)) Counters.AddAllocations(-1);
                _unreserved.Remove(address, out backing);
            }
            if (backing is not null) _va!.Unback(backing);
        }
        return s;
    }

    private const uint D523UnknownFlags = 0xFFFC_0000; // bits 18+ arrived after 5.2.3 (PROTOCOL.md §4.8)

    /// <summary>
    /// Flags for the host thunk. D523 ignores bits 18+ silently: NoAddress/OnlyAddress would come back as real
    /// allocations, so they are refused; the other newer bits (ExtendedCoherent, GTTAccess, Contiguous, ExecuteBlit)
    /// are placement hints the old thunk cannot honour and are dropped.
    /// </summary>
    private bool TryHostFlags(ref HsaMemFlags flags)
    {
        if (Profile != HsaAbiProfile.D523) return true;
        if (flags.Has(HsaMemFlags.NoAddress) || flags.Has(HsaMemFlags.OnlyAddress)) return false;
        flags = new HsaMemFlags(flags.Value & ~D523UnknownFlags);
        return true;
    }

    /// <summary>
    /// The file behind the pages at <paramref name="address"/> as this process maps them (a DRM render node or
    /// /dev/kfd for VRAM/doorbells, a memfd or shmem file for system memory), from /proc/self/maps.
    /// </summary>
    public bool TryGetMemoryBacking(ulong address, ulong length, out MemoryBacking backing)
    {
        backing = null!;
        if (length == 0 || ProcMaps.Containing(address) is not ProcMapping m) return false;
        if (address + length > m.End || !m.Path.StartsWith('/') || m.Path.EndsWith(" (deleted)")) return false;
        lock (_lock)
        {
            if (!_backingFiles.TryGetValue(m.Path, out var fd))
            {
                try
                {
                    fd = File.OpenHandle(m.Path, FileMode.Open, FileAccess.ReadWrite);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log.Warning("Cannot open {Path} backing {Address:x}: {Error}", m.Path, address, e.Message);
                    return false;
                }
                _backingFiles.Add(m.Path, fd);
            }
            backing = new MemoryBacking(fd, m.Offset + (address - m.Start), length);
            return true;
        }
    }

    public HsaStatus MapMemoryToGpu(ulong address, ulong size, out ulong alternateVaGpu)
    {
        ulong alt = 0;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)MapMemoryToGPU((void*)address, size, &alt);
        alternateVaGpu = alt;
        if (s == HsaStatus.Success) Counters.AddMappings(1);
        return s;
    }

    public HsaStatus MapMemoryToGpuNodes(ulong address, ulong size, out ulong alternateVaGpu, uint memMapFlags, ReadOnlySpan<uint> nodes)
    {
        ulong alt = 0;
        HsaStatus s;
        fixed (uint* n = nodes)
        {
            var ptr = n;
            var count = (ulong)nodes.Length;
            lock (HsaKmtGate.Lock) s = (HsaStatus)MapMemoryToGPUNodes((void*)address, size, &alt, memMapFlags, count, ptr);
        }
        alternateVaGpu = alt;
        if (s == HsaStatus.Success) Counters.AddMappings(1);
        return s;
    }

    public HsaStatus UnmapMemoryToGpu(ulong address)
    {
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)UnmapMemoryToGPU((void*)address);
        if (s == HsaStatus.Success && Counters.Mappings > 0) Counters.AddMappings(-1);
        return s;
    }

    public HsaStatus RegisterMemoryWithFlags(ulong address, ulong size, HsaMemFlags flags)
    {
        if (!TryHostFlags(ref flags)) return HsaStatus.NotSupported;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.RegisterMemoryWithFlags((void*)address, size, flags.Value);
        if (s == HsaStatus.Success)
            lock (_lock)
                if (_registrations.Add(address)) Counters.AddRegistrations(1);
        return s;
    }

    public HsaStatus DeregisterMemory(ulong address)
    {
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.DeregisterMemory((void*)address);
        if (s == HsaStatus.Success)
            lock (_lock)
                if (_registrations.Remove(address)) Counters.AddRegistrations(-1);
        return s;
    }

    public HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset)
    {
        int f = -1;
        ulong off = 0;
        var s = HsaStatus.NotSupported;
        if (_probe.Has("hsaKmtExportDMABufHandle")) lock (HsaKmtGate.Lock) s = (HsaStatus)ExportDMABufHandle((void*)address, size, &f, &off);
        fd = s == HsaStatus.Success ? new SafeFileHandle(f, ownsHandle: true) : new SafeFileHandle();
        offset = off;
        return s;
    }

    public HsaStatus ShareMemory(ulong address, ulong size, out U32x8 sharedHandle)
    {
        U32x8 h = default;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.ShareMemory((void*)address, size, &h);
        sharedHandle = h;
        return s;
    }

    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, out ulong address, out ulong size)
    {
        var h = sharedHandle;
        void* a = null;
        ulong sz = 0;
        HsaStatus s;
        fixed (uint* n = nodes)
        {
            var ptr = n;
            var count = (ulong)nodes.Length;
            lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.RegisterSharedHandleToNodes(&h, &a, &sz, count, ptr);
        }
        address = (ulong)a;
        size = sz;
        if (s == HsaStatus.Success)
            lock (_lock)
                if (_registrations.Add(address)) Counters.AddRegistrations(1);
        return s;
    }

    /// <summary>libhsakmt chooses the import's VA itself; <paramref name="placeVa"/> is not used.</summary>
    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, Func<ulong, ulong> placeVa, out ulong address, out ulong size) =>
        RegisterSharedHandleToNodes(sharedHandle, nodes, out address, out size);

    public HsaStatus SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, ulong alternateAddress, ulong size) =>
        Call(() => HsaKmtNative.SetMemoryPolicy(node, defaultPolicy, alternatePolicy, (void*)alternateAddress, size));

    public HsaStatus SvmSetAttr(ulong start, ulong size, ReadOnlySpan<ulong> attributes)
    {
        var copy = attributes.ToArray(); // the thunk writes into its argument
        fixed (ulong* a = copy)
        {
            var ptr = a;
            return Call(() => SVMSetAttr((void*)start, size, (uint)copy.Length, ptr));
        }
    }

    public HsaStatus SvmGetAttr(ulong start, ulong size, Span<ulong> attributes)
    {
        fixed (ulong* a = attributes)
        {
            var ptr = a;
            var n = (uint)attributes.Length;
            return Call(() => SVMGetAttr((void*)start, size, n, ptr));
        }
    }

    // ---- events

    public HsaStatus CreateEvent(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle)
    {
        var d = desc;
        HsaEvent* e = null;
        HsaStatus s;
        lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.CreateEvent(&d, manualReset, isSignaled, &e);
        ev = default;
        handle = 0;
        if (s != HsaStatus.Success) return s;
        ev = *e;
        lock (_lock)
        {
            handle = ++_nextHandle;
            _events.Add(handle, (nint)e);
        }
        Counters.AddEvents(1);
        return s;
    }

    public HsaStatus DestroyEvent(ulong handle)
    {
        nint e;
        lock (_lock)
        {
            if (!_events.TryGetValue(handle, out e)) return HsaStatus.InvalidHandle;
            // The thunk frees the HsaEvent: a wait still holding the pointer would read freed memory.
            if (_eventWaits.GetValueOrDefault(handle) > 0) return HsaStatus.Error;
            _events.Remove(handle);
        }
        Counters.AddEvents(-1);
        return Call(() => HsaKmtNative.DestroyEvent((HsaEvent*)e));
    }

    public HsaStatus SetEvent(ulong handle) => WithEvent(handle, e => HsaKmtNative.SetEvent((HsaEvent*)e));
    public HsaStatus ResetEvent(ulong handle) => WithEvent(handle, e => HsaKmtNative.ResetEvent((HsaEvent*)e));
    public HsaStatus QueryEventState(ulong handle) => WithEvent(handle, e => HsaKmtNative.QueryEventState((HsaEvent*)e));

    private HsaStatus WithEvent(ulong handle, Func<nint, int> f)
    {
        nint e;
        lock (_lock)
            if (!_events.TryGetValue(handle, out e)) return HsaStatus.InvalidHandle;
        return Call(() => f(e));
    }

    public Task<HsaStatus> WaitOnMultipleEventsAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct)
    {
        if (handles.Count == 0) return Task.FromResult(HsaStatus.InvalidParameter);
        var pointers = new nint[handles.Count];
        lock (_lock)
        {
            for (var i = 0; i < handles.Count; i++)
                if (!_events.TryGetValue(handles[i], out pointers[i])) return Task.FromResult(HsaStatus.InvalidHandle);
            foreach (var h in handles) _eventWaits[h] = _eventWaits.GetValueOrDefault(h) + 1;
        }
        return Task.Factory.StartNew(() =>
        {
            try
            {
                var remaining = milliseconds;
                while (true)
                {
                    if (ct.IsCancellationRequested) return HsaStatus.WaitFailure;
                    var slice = milliseconds == uint.MaxValue ? WaitSliceMs : Math.Min(remaining, WaitSliceMs);
                    int r;
                    fixed (nint* p = pointers) r = WaitOnMultipleEvents((HsaEvent**)p, (uint)pointers.Length, waitAll, slice);
                    var s = (HsaStatus)r;
                    if (s != HsaStatus.WaitTimeout) return s;
                    if (milliseconds != uint.MaxValue)
                    {
                        remaining -= slice;
                        if (remaining == 0) return HsaStatus.WaitTimeout;
                    }
                }
            }
            finally
            {
                lock (_lock)
                    foreach (var h in handles) _eventWaits[h]--;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public HsaStatus SetTrapHandler(uint node, ulong handlerBase, ulong handlerSize, ulong bufferBase, ulong bufferSize) =>
        Call(() => HsaKmtNative.SetTrapHandler(node, (void*)handlerBase, handlerSize, (void*)bufferBase, bufferSize));

    // ---- queues

    public HsaStatus CreateQueue(in QueueCreateArgs args, out QueueCreated created)
    {
        created = null!;
        var a = args;
        nint ev = 0;
        if (a.EventHandle != 0)
            lock (_lock)
                if (!_events.TryGetValue(a.EventHandle, out ev)) return HsaStatus.InvalidHandle;
        var res = new HsaQueueResource { QueueWptrValue = a.WritePtrAddress, QueueRptrValue = a.ReadPtrAddress };
        HsaStatus s;
        if (a.SdmaEngineId == QueueCreateArgs.AnySdmaEngine)
            lock (HsaKmtGate.Lock)
                s = (HsaStatus)HsaKmtNative.CreateQueue(a.NodeId, a.Type, a.Percentage, a.Priority, (void*)a.RingAddress, a.RingSize, (HsaEvent*)ev, &res);
        else if (!_probe.Has("hsaKmtCreateQueueExt"))
            s = HsaStatus.NotSupported;
        else
            lock (HsaKmtGate.Lock)
                s = (HsaStatus)CreateQueueExt(a.NodeId, a.Type, a.Percentage, a.Priority, a.SdmaEngineId, (void*)a.RingAddress, a.RingSize, (HsaEvent*)ev, &res);
        if (s != HsaStatus.Success) return s;

        const ulong doorbellPage = 8192; // gfx9+: 1024 64-bit doorbells per process and device
        var pageAddress = res.QueueDoorBell & ~(doorbellPage - 1);
        if (!TryGetMemoryBacking(pageAddress, doorbellPage, out var doorbell))
        {
            _log.Error("Queue created but its doorbell page {Address:x} has no mappable backing; destroying it", pageAddress);
            var id = res.QueueId;
            Call(() => HsaKmtNative.DestroyQueue(id));
            return HsaStatus.Error;
        }
        MemoryBacking? rw = null;
        if (!HsaQueueType.IsAql(a.Type) && TryGetMemoryBacking(res.QueueRptrValue & ~0xFFFUL, 4096, out var rwPage)) rw = rwPage;
        ulong handle;
        lock (_lock)
        {
            handle = ++_nextHandle;
            _queues.Add(handle, res.QueueId);
        }
        Counters.AddQueues(1);
        res.QueueId = handle; // the thunk's value is a host pointer (PROTOCOL.md §0.2 #4)
        created = new QueueCreated(handle, res, pageAddress, doorbellPage, doorbell, rw);
        return s;
    }

    public HsaStatus DestroyQueue(ulong queueHandle)
    {
        ulong id;
        lock (_lock)
            if (!_queues.Remove(queueHandle, out id)) return HsaStatus.InvalidHandle;
        Counters.AddQueues(-1);
        return Call(() => HsaKmtNative.DestroyQueue(id));
    }

    public HsaStatus UpdateQueue(ulong queueHandle, uint percentage, long priority, ulong ringAddress, ulong ringSize) =>
        WithQueue(queueHandle, id => HsaKmtNative.UpdateQueue(id, percentage, priority, (void*)ringAddress, ringSize, null));

    public HsaStatus GetQueueInfo(ulong queueHandle, out HsaQueueInfo info)
    {
        HsaQueueInfo r = default;
        var s = HsaStatus.InvalidHandle;
        if (TryQueue(queueHandle, out var id)) lock (HsaKmtGate.Lock) s = (HsaStatus)HsaKmtNative.GetQueueInfo(id, &r);
        // Host pointers: never forwarded.
        r.CUMaskInfo = 0;
        r.UserContextSaveArea = 0;
        r.ControlStackTop = 0;
        r.SaveAreaHeader = 0;
        info = r;
        return s;
    }

    public HsaStatus SetQueueCuMask(ulong queueHandle, ReadOnlySpan<uint> mask)
    {
        var copy = mask.ToArray();
        return WithQueue(queueHandle, id =>
        {
            fixed (uint* m = copy) return SetQueueCUMask(id, (uint)copy.Length * 32, m);
        });
    }

    public HsaStatus AllocQueueGws(ulong queueHandle, uint nGws, out uint firstGws)
    {
        uint first = 0;
        var s = HsaStatus.InvalidHandle;
        if (TryQueue(queueHandle, out var id)) lock (HsaKmtGate.Lock) s = (HsaStatus)AllocQueueGWS(id, nGws, &first);
        firstGws = first;
        return s;
    }

    private bool TryQueue(ulong handle, out ulong id)
    {
        lock (_lock) return _queues.TryGetValue(handle, out id);
    }

    private HsaStatus WithQueue(ulong handle, Func<ulong, int> f)
    {
        ulong id;
        lock (_lock)
            if (!_queues.TryGetValue(handle, out id)) return HsaStatus.InvalidHandle;
        return Call(() => f(id));
    }

    // ---- graphics interop and SPM

    public HsaStatus RegisterGraphicsHandleToNodes(SafeHandle dmaBufFd, ReadOnlySpan<uint> nodes, uint flags, out HsaGraphicsResourceInfo info, Span<byte> metadata)
    {
        info = default;
        if (!_probe.Has("hsaKmtRegisterGraphicsHandleToNodes")) return HsaStatus.NotSupported;
        var added = false;
        dmaBufFd.DangerousAddRef(ref added);
        try
        {
            HsaGraphicsResourceInfo r = default;
            HsaStatus s;
            fixed (uint* n = nodes)
            {
                var ptr = n;
                var count = (ulong)nodes.Length;
                var fd = (ulong)dmaBufFd.DangerousGetHandle();
                lock (HsaKmtGate.Lock)
                {
                    s = (HsaStatus)HsaKmtNative.RegisterGraphicsHandleToNodes(fd, &r, count, ptr);
                    if (s == HsaStatus.Success && r.Metadata != 0)
                        new ReadOnlySpan<byte>((void*)r.Metadata, (int)Math.Min(r.MetadataSizeInBytes, (uint)metadata.Length)).CopyTo(metadata);
                }
            }
            r.Metadata = 0;
            info = r;
            if (s == HsaStatus.Success)
                lock (_lock)
                    if (_registrations.Add(r.MemoryAddress)) Counters.AddRegistrations(1);
            return s;
        }
        finally
        {
            if (added) dmaBufFd.DangerousRelease();
        }
    }

    public HsaStatus SpmAcquire(uint node) => Optional("hsaKmtSPMAcquire", () => SPMAcquire(node));
    public HsaStatus SpmRelease(uint node) => Optional("hsaKmtSPMRelease", () => SPMRelease(node));

    public HsaStatus SpmSetDestBuffer(uint node, uint sizeInBytes, ref uint timeoutMs, out uint sizeCopied, ulong destAddress, out bool isDataLoss)
    {
        uint timeout = timeoutMs, copied = 0;
        byte loss = 0;
        var s = HsaStatus.NotSupported;
        if (_probe.Has("hsaKmtSPMSetDestBuffer")) lock (HsaKmtGate.Lock) s = (HsaStatus)SPMSetDestBuffer(node, sizeInBytes, &timeout, &copied, (void*)destAddress, &loss);
        timeoutMs = timeout;
        sizeCopied = copied;
        isDataLoss = loss != 0;
        return s;
    }

    /// <summary>Destroys what callers left behind (queues, events), then hsaKmtCloseKFD.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        foreach (var h in _queues.Keys.ToList()) DestroyQueue(h);
        foreach (var h in _events.Keys.ToList()) DestroyEvent(h);
        foreach (var a in _allocations.ToList()) FreeMemory(a, 0);
        foreach (var f in _backingFiles.Values) f.Dispose();
        _backingFiles.Clear();
        if (!_opened) return; // hsaKmtCloseKFD is reference counted: only close what this instance opened
        var s = Call(CloseKFD);
        _log.Information("libhsakmt closed ({Status})", s);
    }
}
