namespace VhsaKmt.Native.LibHsaKmt;

/// <summary>
/// Every libhsakmt entry point the binding uses, and whether the binding can live without it. Optional entry
/// points missing from the installed library (Debian 5.2.3 lacks several) make the matching IKfd call answer
/// NOT_SUPPORTED instead of throwing EntryPointNotFoundException.
/// </summary>
public static class HsaKmtExports
{
    public static readonly IReadOnlyList<string> Required =
    [
        "hsaKmtOpenKFD", "hsaKmtCloseKFD", "hsaKmtGetVersion", "hsaKmtAcquireSystemProperties", "hsaKmtReleaseSystemProperties",
        "hsaKmtGetNodeProperties", "hsaKmtGetNodeMemoryProperties", "hsaKmtGetNodeCacheProperties", "hsaKmtGetNodeIoLinkProperties",
        "hsaKmtGetXNACKMode", "hsaKmtSetXNACKMode", "hsaKmtRuntimeEnable", "hsaKmtRuntimeDisable", "hsaKmtGetClockCounters",
        "hsaKmtGetTileConfig", "hsaKmtQueryPointerInfo", "hsaKmtAllocMemory", "hsaKmtFreeMemory", "hsaKmtMapMemoryToGPU",
        "hsaKmtMapMemoryToGPUNodes", "hsaKmtUnmapMemoryToGPU", "hsaKmtRegisterMemoryWithFlags", "hsaKmtDeregisterMemory",
        "hsaKmtShareMemory", "hsaKmtRegisterSharedHandleToNodes", "hsaKmtSetMemoryPolicy", "hsaKmtSVMSetAttr", "hsaKmtSVMGetAttr",
        "hsaKmtCreateEvent", "hsaKmtDestroyEvent", "hsaKmtSetEvent", "hsaKmtResetEvent", "hsaKmtQueryEventState",
        "hsaKmtWaitOnMultipleEvents", "hsaKmtSetTrapHandler", "hsaKmtCreateQueue", "hsaKmtDestroyQueue", "hsaKmtUpdateQueue",
        "hsaKmtGetQueueInfo", "hsaKmtSetQueueCUMask", "hsaKmtAllocQueueGWS",
    ];

    public static readonly IReadOnlyList<string> Optional =
    [
        "hsaKmtGetRuntimeCapabilities", "hsaKmtAvailableMemory", "hsaKmtExportDMABufHandle", "hsaKmtCreateQueueExt",
        "hsaKmtRegisterGraphicsHandleToNodes", "hsaKmtSPMAcquire", "hsaKmtSPMRelease", "hsaKmtSPMSetDestBuffer",
    ];
}
