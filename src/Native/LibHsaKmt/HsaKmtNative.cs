using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.LibHsaKmt;

/// <summary>
/// Raw libhsakmt.so.1 entry points. Never call these directly: <see cref="LibHsaKmtKfd"/> serialises every call
/// through <see cref="HsaKmtGate"/> and checks optional exports first. Struct pointers whose layout differs between
/// ABI profiles (node properties, io links) are passed as untyped buffers.
/// </summary>
internal static unsafe partial class HsaKmtNative
{
    public const string Library = "libhsakmt.so.1";

    [LibraryImport(Library, EntryPoint = "hsaKmtOpenKFD")] public static partial int OpenKFD();
    [LibraryImport(Library, EntryPoint = "hsaKmtCloseKFD")] public static partial int CloseKFD();
    [LibraryImport(Library, EntryPoint = "hsaKmtGetVersion")] public static partial int GetVersion(HsaVersionInfo* v);
    [LibraryImport(Library, EntryPoint = "hsaKmtAcquireSystemProperties")] public static partial int AcquireSystemProperties(HsaSystemProperties* p);
    [LibraryImport(Library, EntryPoint = "hsaKmtReleaseSystemProperties")] public static partial int ReleaseSystemProperties();
    [LibraryImport(Library, EntryPoint = "hsaKmtGetNodeProperties")] public static partial int GetNodeProperties(uint node, void* props);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetNodeMemoryProperties")] public static partial int GetNodeMemoryProperties(uint node, uint n, HsaMemoryProperties* p);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetNodeCacheProperties")] public static partial int GetNodeCacheProperties(uint node, uint processor, uint n, HsaCacheProperties* p);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetNodeIoLinkProperties")] public static partial int GetNodeIoLinkProperties(uint node, uint n, void* links);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetXNACKMode")] public static partial int GetXNACKMode(int* mode);
    [LibraryImport(Library, EntryPoint = "hsaKmtSetXNACKMode")] public static partial int SetXNACKMode(int mode);
    [LibraryImport(Library, EntryPoint = "hsaKmtRuntimeEnable")] public static partial int RuntimeEnable(void* rDebug, [MarshalAs(UnmanagedType.U1)] bool setupTtmp);
    [LibraryImport(Library, EntryPoint = "hsaKmtRuntimeDisable")] public static partial int RuntimeDisable();
    [LibraryImport(Library, EntryPoint = "hsaKmtGetClockCounters")] public static partial int GetClockCounters(uint node, HsaClockCounters* c);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetRuntimeCapabilities")] public static partial int GetRuntimeCapabilities(uint* caps);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetTileConfig")] public static partial int GetTileConfig(uint node, HsaGpuTileConfig* config);
    [LibraryImport(Library, EntryPoint = "hsaKmtQueryPointerInfo")] public static partial int QueryPointerInfo(void* pointer, HsaPointerInfo* info);
    [LibraryImport(Library, EntryPoint = "hsaKmtAvailableMemory")] public static partial int AvailableMemory(uint node, ulong* bytes);
    [LibraryImport(Library, EntryPoint = "hsaKmtAllocMemory")] public static partial int AllocMemory(uint node, ulong size, uint flags, void** address);
    [LibraryImport(Library, EntryPoint = "hsaKmtFreeMemory")] public static partial int FreeMemory(void* address, ulong size);
    [LibraryImport(Library, EntryPoint = "hsaKmtMapMemoryToGPU")] public static partial int MapMemoryToGPU(void* address, ulong size, ulong* alternate);
    [LibraryImport(Library, EntryPoint = "hsaKmtMapMemoryToGPUNodes")] public static partial int MapMemoryToGPUNodes(void* address, ulong size, ulong* alternate, uint flags, ulong n, uint* nodes);
    [LibraryImport(Library, EntryPoint = "hsaKmtUnmapMemoryToGPU")] public static partial int UnmapMemoryToGPU(void* address);
    [LibraryImport(Library, EntryPoint = "hsaKmtRegisterMemoryWithFlags")] public static partial int RegisterMemoryWithFlags(void* address, ulong size, uint flags);
    [LibraryImport(Library, EntryPoint = "hsaKmtDeregisterMemory")] public static partial int DeregisterMemory(void* address);
    [LibraryImport(Library, EntryPoint = "hsaKmtExportDMABufHandle")] public static partial int ExportDMABufHandle(void* address, ulong size, int* fd, ulong* offset);
    [LibraryImport(Library, EntryPoint = "hsaKmtShareMemory")] public static partial int ShareMemory(void* address, ulong size, U32x8* handle);
    [LibraryImport(Library, EntryPoint = "hsaKmtRegisterSharedHandleToNodes")] public static partial int RegisterSharedHandleToNodes(U32x8* handle, void** address, ulong* size, ulong n, uint* nodes);
    [LibraryImport(Library, EntryPoint = "hsaKmtSetMemoryPolicy")] public static partial int SetMemoryPolicy(uint node, uint defaultPolicy, uint alternatePolicy, void* alternate, ulong size);
    [LibraryImport(Library, EntryPoint = "hsaKmtSVMSetAttr")] public static partial int SVMSetAttr(void* start, ulong size, uint nattr, ulong* attrs);
    [LibraryImport(Library, EntryPoint = "hsaKmtSVMGetAttr")] public static partial int SVMGetAttr(void* start, ulong size, uint nattr, ulong* attrs);
    [LibraryImport(Library, EntryPoint = "hsaKmtCreateEvent")] public static partial int CreateEvent(HsaEventDescriptor* desc, [MarshalAs(UnmanagedType.U1)] bool manualReset, [MarshalAs(UnmanagedType.U1)] bool isSignaled, HsaEvent** ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtDestroyEvent")] public static partial int DestroyEvent(HsaEvent* ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtSetEvent")] public static partial int SetEvent(HsaEvent* ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtResetEvent")] public static partial int ResetEvent(HsaEvent* ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtQueryEventState")] public static partial int QueryEventState(HsaEvent* ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtWaitOnMultipleEvents")] public static partial int WaitOnMultipleEvents(HsaEvent** events, uint n, [MarshalAs(UnmanagedType.U1)] bool waitAll, uint ms);
    [LibraryImport(Library, EntryPoint = "hsaKmtSetTrapHandler")] public static partial int SetTrapHandler(uint node, void* handler, ulong handlerSize, void* buffer, ulong bufferSize);
    // HSA_QUEUE_PRIORITY is an 8-byte enum in the C ABI (PROTOCOL.md §0.1): long.
    [LibraryImport(Library, EntryPoint = "hsaKmtCreateQueue")] public static partial int CreateQueue(uint node, uint type, uint pct, long priority, void* ring, ulong size, HsaEvent* ev, HsaQueueResource* res);
    [LibraryImport(Library, EntryPoint = "hsaKmtCreateQueueExt")] public static partial int CreateQueueExt(uint node, uint type, uint pct, long priority, uint sdmaEngine, void* ring, ulong size, HsaEvent* ev, HsaQueueResource* res);
    [LibraryImport(Library, EntryPoint = "hsaKmtDestroyQueue")] public static partial int DestroyQueue(ulong queueId);
    [LibraryImport(Library, EntryPoint = "hsaKmtUpdateQueue")] public static partial int UpdateQueue(ulong queueId, uint pct, long priority, void* ring, ulong size, HsaEvent* ev);
    [LibraryImport(Library, EntryPoint = "hsaKmtGetQueueInfo")] public static partial int GetQueueInfo(ulong queueId, HsaQueueInfo* info);
    [LibraryImport(Library, EntryPoint = "hsaKmtSetQueueCUMask")] public static partial int SetQueueCUMask(ulong queueId, uint count, uint* mask);
    [LibraryImport(Library, EntryPoint = "hsaKmtAllocQueueGWS")] public static partial int AllocQueueGWS(ulong queueId, uint n, uint* first);
    [LibraryImport(Library, EntryPoint = "hsaKmtRegisterGraphicsHandleToNodes")] public static partial int RegisterGraphicsHandleToNodes(ulong handle, HsaGraphicsResourceInfo* info, ulong n, uint* nodes);
    [LibraryImport(Library, EntryPoint = "hsaKmtSPMAcquire")] public static partial int SPMAcquire(uint node);
    [LibraryImport(Library, EntryPoint = "hsaKmtSPMRelease")] public static partial int SPMRelease(uint node);
    [LibraryImport(Library, EntryPoint = "hsaKmtSPMSetDestBuffer")] public static partial int SPMSetDestBuffer(uint node, uint size, uint* timeout, uint* copied, void* dest, byte* dataLoss);
}
