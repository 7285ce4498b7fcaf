using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native;

/// <summary>
/// The seam to the host KFD: one method per libhsakmt entry point the protocol reaches (PROTOCOL.md §4).
/// Every method returns the thunk's <see cref="HsaStatus"/>; guest mistakes are statuses, never exceptions.
/// Implementations: <c>SimulatedKfd</c> ("simulated") and <c>LibHsaKmtKfd</c> ("libhsakmt").
/// Thread-safety: implementations are safe to call from several threads; libhsakmt calls are serialised inside.
/// </summary>
public interface IKfd : IDisposable
{
    /// <summary>"simulated" or "libhsakmt".</summary>
    string Name { get; }

    /// <summary>Live allocations/events/queues/registrations/exports/GPU mappings (leak tests).</summary>
    KfdCounters Counters { get; }

    // ---- topology and process-wide state (QUERY_INFO, §4.2)
    HsaStatus GetVersion(out HsaVersionInfo v);
    HsaStatus AcquireSystemProperties(out HsaSystemProperties p);
    HsaStatus GetNodeProperties(uint node, out HsaNodeProperties p);
    /// <summary>Fills <paramref name="banks"/>; its length is the NumBanks the caller asked for (may be fewer than the node has).</summary>
    HsaStatus GetNodeMemoryProperties(uint node, Span<HsaMemoryProperties> banks);
    HsaStatus GetNodeCacheProperties(uint node, uint processorId, Span<HsaCacheProperties> caches);
    HsaStatus GetNodeIoLinkProperties(uint node, Span<HsaIoLinkProperties> links);
    HsaStatus GetXnackMode(out int mode);
    HsaStatus SetXnackMode(int mode);
    HsaStatus RuntimeEnable(bool setupTtmp);
    HsaStatus RuntimeDisable();
    HsaStatus GetClockCounters(uint node, out HsaClockCounters c);
    HsaStatus GetRuntimeCapabilities(out uint caps);
    /// <summary>config.NumTileConfigs/NumMacroTileConfigs in: capacity (≤ span lengths); out: entries written.</summary>
    HsaStatus GetTileConfig(uint node, ref HsaGpuTileConfig config, Span<uint> tileConfig, Span<uint> macroTileConfig);
    /// <summary>info.MappedNodes/RegisteredNodes are left 0 (host pointers); the mapped node ids go to <paramref name="mappedNodes"/>.</summary>
    HsaStatus QueryPointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes);
    HsaStatus GetAmdgpuGpuInfo(uint node, out AmdgpuGpuInfo info);
    HsaStatus AvailableMemory(uint node, out ulong bytes);

    // ---- memory (MEMORY, §4.4)
    /// <summary>
    /// address: in = the FixedAddress VA the caller reserved (from <see cref="Va.VaManager"/>), or 0 with NoAddress;
    /// out = the VA (FixedAddress) or an opaque non-zero handle (NoAddress).
    /// </summary>
    HsaStatus AllocMemory(uint node, ulong size, HsaMemFlags flags, ref ulong address);
    HsaStatus FreeMemory(ulong address, ulong size);
    /// <summary>The fd range backing <c>[address, address + length)</c> of a mappable allocation; false if none.</summary>
    bool TryGetMemoryBacking(ulong address, ulong length, out MemoryBacking backing);
    HsaStatus MapMemoryToGpu(ulong address, ulong size, out ulong alternateVaGpu);
    HsaStatus MapMemoryToGpuNodes(ulong address, ulong size, out ulong alternateVaGpu, uint memMapFlags, ReadOnlySpan<uint> nodes);
    HsaStatus UnmapMemoryToGpu(ulong address);
    HsaStatus RegisterMemoryWithFlags(ulong address, ulong size, HsaMemFlags flags);
    HsaStatus DeregisterMemory(ulong address);
    /// <summary>On success the caller owns <paramref name="fd"/>.</summary>
    HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset);
    HsaStatus ShareMemory(ulong address, ulong size, out U32x8 sharedHandle);
    HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, out ulong address, out ulong size);
    /// <summary>
    /// As above, but the import is placed at a VA the caller reserves: <paramref name="placeVa"/> gets the import's
    /// size and returns a reserved VA (0 refuses → NO_MEMORY). A backend that cannot place imports (libhsakmt)
    /// ignores it and returns its own VA, which the caller must then check.
    /// </summary>
    HsaStatus RegisterSharedHandleToNodes(in U32x8 sharedHandle, ReadOnlySpan<uint> nodes, Func<ulong, ulong> placeVa, out ulong address, out ulong size);
    HsaStatus SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, ulong alternateAddress, ulong size);
    /// <summary>One ulong per HSA_SVM_ATTRIBUTE as laid out in memory: type in bits 0-31, value in bits 32-63.</summary>
    HsaStatus SvmSetAttr(ulong start, ulong size, ReadOnlySpan<ulong> attributes);
    HsaStatus SvmGetAttr(ulong start, ulong size, Span<ulong> attributes);

    // ---- events (EVENT, §4.3). Handles are opaque non-zero ids chosen by the implementation.
    HsaStatus CreateEvent(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle);
    HsaStatus DestroyEvent(ulong handle);
    HsaStatus SetEvent(ulong handle);
    HsaStatus ResetEvent(ulong handle);
    /// <summary>
    /// As the Linux thunk (libhsakmt events.c): SUCCESS for a live event whatever its state, INVALID_HANDLE for an
    /// unknown one. The state itself is observable only through a 0 ms wait (WAIT_TIMEOUT when not signaled).
    /// </summary>
    HsaStatus QueryEventState(ulong handle);
    /// <summary>Never blocks the caller's thread; completes with Success, WaitTimeout or an error.</summary>
    Task<HsaStatus> WaitOnMultipleEventsAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct);
    HsaStatus SetTrapHandler(uint node, ulong handlerBase, ulong handlerSize, ulong bufferBase, ulong bufferSize);

    // ---- queues (QUEUE, §4.5)
    /// <summary>SdmaEngineId != 0xFFFFFFFF → hsaKmtCreateQueueExt.</summary>
    HsaStatus CreateQueue(in QueueCreateArgs args, out QueueCreated created);
    HsaStatus DestroyQueue(ulong queueHandle);
    HsaStatus UpdateQueue(ulong queueHandle, uint percentage, long priority, ulong ringAddress, ulong ringSize);
    HsaStatus GetQueueInfo(ulong queueHandle, out HsaQueueInfo info);
    /// <summary>Count in bits = mask.Length * 32.</summary>
    HsaStatus SetQueueCuMask(ulong queueHandle, ReadOnlySpan<uint> mask);
    HsaStatus AllocQueueGws(ulong queueHandle, uint nGws, out uint firstGws);

    // ---- graphics interop and SPM (GL_INTER §4.6, QUERY SPM_*)
    HsaStatus RegisterGraphicsHandleToNodes(SafeHandle dmaBufFd, ReadOnlySpan<uint> nodes, uint flags, out HsaGraphicsResourceInfo info, Span<byte> metadata);
    HsaStatus SpmAcquire(uint node);
    HsaStatus SpmRelease(uint node);
    HsaStatus SpmSetDestBuffer(uint node, uint sizeInBytes, ref uint timeoutMs, out uint sizeCopied, ulong destAddress, out bool isDataLoss);
}
