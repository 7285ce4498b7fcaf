namespace VhsaKmt.Transport.Hsakmt;

// Command families and subtypes (enums of hsakmt_virtio_proto.h; values checked against layouts/gnew-h25.json).

public enum CcmdFamily : uint { Nop = 1, QueryInfo = 2, Event = 3, Memory = 4, Queue = 5, GlInter = 6 }

public enum QueryType : uint
{
    GpuInfo = 0, OpenKfd = 1, GetVer = 2, RelSysProp = 3, GetSysProp = 4, GetNodeProp = 5, GetXnackMode = 6,
    RunTimeEnable = 7, RunTimeDisable = 8, GetNodMemProp = 9, GetNodCacheProp = 10, GetNodIoLinkProp = 11,
    GetClockCounters = 12, PointerInfo = 13, TileConfig = 14, NanoTime = 15, GetRuntimeCaps = 16,
    AmdgpuDeviceHandle = 17, DrmCmdWriteRead = 18, SetXnackMode = 19, SpmAcquire = 20, SpmRelease = 21,
    SpmSetDstBuffer = 22,
}

public enum EventType : uint { Create = 0, Destroy = 1, Set = 2, Reset = 3, QueryState = 4, WaitOnMultiEvents = 5, SetTrap = 6 }

public enum MemoryType : uint
{
    Alloc = 0, MapToGpuNodes = 1, Free = 2, UnmapToGpu = 3, AvailMem = 4, MapMemToGpu = 5, RegMemWithFlag = 6,
    DeregMem = 7, MapUserptr = 8, ExportDmabuf = 9, AmdgpuImport = 10, AmdgpuExport = 11, AmdgpuVaOp = 12,
    AmdgpuBoFree = 13, ShareMemory = 14, RegisterSharedHandle = 15, SetMemPolicy = 16, SvmGetAttr = 17,
    SvmSetAttr = 18, AmdgpuBoQueryInfo = 19, AmdgpuBoSetMetadata = 20,
}

public enum QueueType : uint { Create = 0, Destroy = 1, Update = 2, GetInfo = 3, SetCuMask = 4, AllocGws = 5 }

public enum GlInterType : uint { RegGhdToNodes = 0 }
