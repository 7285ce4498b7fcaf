using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Faults;

/// <summary>
/// An <see cref="IKfd"/> decorator that fails the calls its <see cref="FaultPlan"/> names (ENOMEM, device lost,
/// timeout, or an exception) and passes everything else to the inner KFD. A faulted call never reaches the inner
/// KFD, so it creates nothing there: its out values are zero, as the thunk leaves them on failure. Counters are the
/// inner KFD's, so leak accounting sees the real objects. Disposing disposes the inner KFD.
/// </summary>
public sealed class FaultInjectingKfd(IKfd inner, FaultPlan? plan = null) : IKfd
{
    public IKfd Inner { get; } = inner;
    public FaultPlan Plan { get; } = plan ?? new FaultPlan();

    public string Name => Inner.Name;
    public KfdCounters Counters => Inner.Counters;

    private bool Faulted(out HsaStatus status, [CallerMemberName] string method = "")
    {
        var fault = Plan.Next(method);
        status = fault switch
        {
            null => HsaStatus.Success,
            KfdFault.NoMemory => HsaStatus.NoMemory,
            KfdFault.DeviceLost => HsaStatus.KernelCommunicationError,
            KfdFault.Timeout => HsaStatus.WaitTimeout,
            KfdFault.Throw => throw new InjectedKfdException(method),
            _ => throw new ArgumentOutOfRangeException(nameof(method), fault, "unknown fault kind"),
        };
        return fault is not null;
    }

    // ---- topology and process-wide state
    public HsaStatus GetVersion(out HsaVersionInfo v) { v = default; return Faulted(out var s) ? s : Inner.GetVersion(out v); }
    public HsaStatus AcquireSystemProperties(out HsaSystemProperties p) { p = default; return Faulted(out var s) ? s : Inner.AcquireSystemProperties(out p); }
    public HsaStatus GetNodeProperties(uint node, out HsaNodeProperties p) { p = default; return Faulted(out var s) ? s : Inner.GetNodeProperties(node, out p); }
    public HsaStatus GetNodeMemoryProperties(uint node, Span<HsaMemoryProperties> banks) => Faulted(out var s) ? s : Inner.GetNodeMemoryProperties(node, banks);
    public HsaStatus GetNodeCacheProperties(uint node, uint processorId, Span<HsaCacheProperties> caches) => Faulted(out var s) ? s : Inner.GetNodeCacheProperties(node, processorId, caches);
    public HsaStatus GetNodeIoLinkProperties(uint node, Span<HsaIoLinkProperties> links) => Faulted(out var s) ? s : Inner.GetNodeIoLinkProperties(node, links);
    public HsaStatus GetXnackMode(out int mode) { mode = 0; return Faulted(out var s) ? s : Inner.GetXnackMode(out mode); }
    public HsaStatus SetXnackMode(int mode) => Faulted(out var s) ? s : Inner.SetXnackMode(mode);
    public HsaStatus RuntimeEnable(bool setupTtmp) => Faulted(out var s) ? s : Inner.RuntimeEnable(setupTtmp);
    public HsaStatus RuntimeDisable() => Faulted(out var s) ? s : Inner.RuntimeDisable();
    public HsaStatus GetClockCounters(uint node, out HsaClockCounters c) { c = default; return Faulted(out var s) ? s : Inner.GetClockCounters(node, out c); }
    public HsaStatus GetRuntimeCapabilities(out uint caps) { caps = 0; return Faulted(out var s) ? s : Inner.GetRuntimeCapabilities(out caps); }
    public HsaStatus GetTileConfig(uint node, ref HsaGpuTileConfig config, Span<uint> tileConfig, Span<uint> macroTileConfig) =>
        Faulted(out var s) ? s : Inner.GetTileConfig(node, ref config, tileConfig, macroTileConfig);
    public HsaStatus QueryPointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes) { info = default; return Faulted(out var s) ? s : Inner.QueryPointerInfo(address, out info, mappedNodes); }
    public HsaStatus GetAmdgpuGpuInfo(uint node, out AmdgpuGpuInfo info) { info = default; return Faulted(out var s) ? s : Inner.GetAmdgpuGpuInfo(node, out info); }
    public HsaStatus AvailableMemory(uint node, out ulong bytes) { bytes = 0; return Faulted(out var s) ? s : Inner.AvailableMemory(node, out bytes); }

    // ---- memory
    public HsaStatus AllocMemory(uint node, ulong size, HsaMemFlags flags, ref ulong address) => Faulted(out var s) ? s : Inner.AllocMemory(node, size, flags, ref address);
    public HsaStatus FreeMemory(ulong address, ulong size) => Faulted(out var s) ? s : Inner.FreeMemory(address, size);
    public bool TryGetMemoryBacking(ulong address, ulong length, out MemoryBacking backing)
    {
        backing = null!;
        return !Faulted(out _) && Inner.TryGetMemoryBacking(address, length, out backing);
    }
    public HsaStatus MapMemoryToGpu(ulong address, ulong size, out ulong alternateVaGpu) { alternateVaGpu = 0; return Faulted(out var s) ? s : Inner.MapMemoryToGpu(address, size, out alternateVaGpu); }
    public HsaStatus MapMemoryToGpuNodes(ulong address, ulong size, out ulong alternateVaGpu, uint memMapFlags, ReadOnlySpan<uint> nodes)
    {
        alternateVaGpu = 0;
        return Faulted(out var s) ? s : Inner.MapMemoryToGpuNodes(address, size, out alternateVaGpu, memMapFlags, nodes);
    }
    public HsaStatus UnmapMemoryToGpu(ulong address) => Faulted(out var s) ? s : Inner.UnmapMemoryToGpu(address);
    public HsaStatus RegisterMemoryWithFlags(ulong address, ulong size, HsaMemFlags flags) => Faulted(out var s) ? s : Inner.RegisterMemoryWithFlags(address, size, flags);
    public HsaStatus DeregisterMemory(ulong address) => Faulted(out var s) ? s : Inner.DeregisterMemory(address);
    public HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset)
    {
        fd = null!;
        offset = 0;
        return Faulted(out var s) ? s : Inner.ExportDmaBuf(address, size, out fd, out offset);
    }
    public HsaStatus ShareMemory(ulong address, ulong size, out U32x8 sharedHandle) { sharedHandle = default; return Faulted(out var s) ? s : Inner.ShareMemory(address, size, out sharedHandle); }
    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, out ulong address, out ulong size)
    {
        address = 0;
        size = 0;
        return Faulted(out var s) ? s : Inner.RegisterSharedHandleToNodes(sharedHandle, nodes, out address, out size);
    }
    public HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, Func<ulong, ulong> placeVa, out ulong address, out ulong size)
    {
        address = 0;
        size = 0;
        return Faulted(out var s) ? s : Inner.RegisterSharedHandleToNodes(sharedHandle, nodes, placeVa, out address, out size);
    }
    public HsaStatus SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, ulong alternateAddress, ulong size) =>
        Faulted(out var s) ? s : Inner.SetMemoryPolicy(node, defaultPolicy, alternatePolicy, alternateAddress, size);
    public HsaStatus SvmSetAttr(ulong start, ulong size, ReadOnlySpan<ulong> attributes) => Faulted(out var s) ? s : Inner.SvmSetAttr(start, size, attributes);
    public HsaStatus SvmGetAttr(ulong start, ulong size, Span<ulong> attributes) => Faulted(out var s) ? s : Inner.SvmGetAttr(start, size, attributes);

    // ---- events
    public HsaStatus CreateEvent(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle)
    {
        ev = default;
        handle = 0;
        return Faulted(out var s) ? s : Inner.CreateEvent(desc, manualReset, isSignaled, out ev, out handle);
    }
    public HsaStatus DestroyEvent(ulong handle) => Faulted(out var s) ? s : Inner.DestroyEvent(handle);
    public HsaStatus SetEvent(ulong handle) => Faulted(out var s) ? s : Inner.SetEvent(handle);
    public HsaStatus ResetEvent(ulong handle) => Faulted(out var s) ? s : Inner.ResetEvent(handle);
    public HsaStatus QueryEventState(ulong handle) => Faulted(out var s) ? s : Inner.QueryEventState(handle);
    public Task<HsaStatus> WaitOnMultipleEventsAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct) =>
        Faulted(out var s) ? Task.FromResult(s) : Inner.WaitOnMultipleEventsAsync(handles, waitAll, milliseconds, ct);
    public HsaStatus SetTrapHandler(uint node, ulong handlerBase, ulong handlerSize, ulong bufferBase, ulong bufferSize) =>
        Faulted(out var s) ? s : Inner.SetTrapHandler(node, handlerBase, handlerSize, bufferBase, bufferSize);

    // ---- queues
    public HsaStatus CreateQueue(in QueueCreateArgs args, out QueueCreated created) { created = null!; return Faulted(out var s) ? s : Inner.CreateQueue(args, out created); }
    public HsaStatus DestroyQueue(ulong queueHandle) => Faulted(out var s) ? s : Inner.DestroyQueue(queueHandle);
    public HsaStatus UpdateQueue(ulong queueHandle, uint percentage, long priority, ulong ringAddress, ulong ringSize) =>
        Faulted(out var s) ? s : Inner.UpdateQueue(queueHandle, percentage, priority, ringAddress, ringSize);
    public HsaStatus GetQueueInfo(ulong queueHandle, out HsaQueueInfo info) { info = default; return Faulted(out var s) ? s : Inner.GetQueueInfo(queueHandle, out info); }
    public HsaStatus SetQueueCuMask(ulong queueHandle, ReadOnlySpan<uint> mask) => Faulted(out var s) ? s : Inner.SetQueueCuMask(queueHandle, mask);
    public HsaStatus AllocQueueGws(ulong queueHandle, uint nGws, out uint firstGws) { firstGws = 0; return Faulted(out var s) ? s : Inner.AllocQueueGws(queueHandle, nGws, out firstGws); }

    // ---- graphics interop and SPM
    public HsaStatus RegisterGraphicsHandleToNodes(SafeHandle dmaBufFd, ReadOnlySpan<uint> nodes, uint flags, out HsaGraphicsResourceInfo info, Span<byte> metadata)
    {
        info = default;
        return Faulted(out var s) ? s : Inner.RegisterGraphicsHandleToNodes(dmaBufFd, nodes, flags, out info, metadata);
    }
    public HsaStatus SpmAcquire(uint node) => Faulted(out var s) ? s : Inner.SpmAcquire(node);
    public HsaStatus SpmRelease(uint node) => Faulted(out var s) ? s : Inner.SpmRelease(node);
    public HsaStatus SpmSetDestBuffer(uint node, uint sizeInBytes, ref uint timeoutMs, out uint sizeCopied, ulong destAddress, out bool isDataLoss)
    {
        sizeCopied = 0;
        isDataLoss = false;
        return Faulted(out var s) ? s : Inner.SpmSetDestBuffer(node, sizeInBytes, ref timeoutMs, out sizeCopied, destAddress, out isDataLoss);
    }

    public void Dispose() => Inner.Dispose();
}
