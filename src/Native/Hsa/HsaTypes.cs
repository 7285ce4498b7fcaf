using System.Runtime.InteropServices;

namespace VhsaKmt.Native.Hsa;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>HSA_CAPABILITY</c> (union, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HSA_CAPABILITY
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield (single bits as masks, wider fields as Shift/Bits).
    public const uint HotPluggable = 1u << 0, HSAMMUPresent = 1u << 1, SharedWithGraphics = 1u << 2,
        QueueSizePowerOfTwo = 1u << 3, QueueSize32bit = 1u << 4, QueueIdleEvent = 1u << 5, VALimit = 1u << 6,
        WatchPointsSupported = 1u << 7, AQLQueueDoubleMap = 1u << 14, DebugTrapSupported = 1u << 15,
        WaveLaunchTrapOverrideSupported = 1u << 16, WaveLaunchModeSupported = 1u << 17,
        PreciseMemoryOperationsSupported = 1u << 18, DEPRECATED_SRAM_EDCSupport = 1u << 19,
        Mem_EDCSupport = 1u << 20, RASEventNotify = 1u << 21, SRAM_EDCSupport = 1u << 26,
        SVMAPISupported = 1u << 27, CoherentHostAccess = 1u << 28, DebugSupportedFirmware = 1u << 29,
        PreciseALUOperationsSupported = 1u << 30, PerQueueResetSupported = 1u << 31;
    public const int WatchPointsTotalBitsShift = 8, WatchPointsTotalBitsBits = 4, DoorbellTypeShift = 12,
        DoorbellTypeBits = 2, ASICRevisionShift = 22, ASICRevisionBits = 4;
}

/// <summary>C <c>HSA_CAPABILITY2</c> (union, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HSA_CAPABILITY2
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield.
    public const uint PerSDMAQueueResetSupported = 1u << 0;
}

/// <summary>C <c>HSA_DEBUG_PROPERTIES</c> (union, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct HSA_DEBUG_PROPERTIES
{
    public const int Size = 8;
    [FieldOffset(0)] public ulong Value;

    // Bit positions of the C bitfield (single bits as masks, wider fields as Shift/Bits).
    public const ulong DispatchInfoAlwaysValid = 1ul << 10, AddressWatchpointShareKind = 1ul << 11;
    public const int WatchAddrMaskLoBitShift = 0, WatchAddrMaskLoBitBits = 4, WatchAddrMaskHiBitShift = 4,
        WatchAddrMaskHiBitBits = 6;
}

/// <summary>C <c>HSA_ENGINE_ID</c> (union, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HSA_ENGINE_ID
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield.
    public const int uCodeShift = 0, uCodeBits = 10, MajorShift = 10, MajorBits = 6, MinorShift = 16, MinorBits = 8,
        SteppingShift = 24, SteppingBits = 8;
}

/// <summary>C <c>HSA_ENGINE_VERSION</c> (union, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HSA_ENGINE_VERSION
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield.
    public const int uCodeSDMAShift = 0, uCodeSDMABits = 10, uCodeResShift = 10, uCodeResBits = 10;
}

/// <summary>C <c>HsaAccessAttributeFailure</c> (structure, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HsaAccessAttributeFailure
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield (single bits as masks, wider fields as Shift/Bits).
    public const uint NotPresent = 1u << 0, ReadOnly = 1u << 1, NoExecute = 1u << 2, GpuAccess = 1u << 3,
        ECC = 1u << 4, Imprecise = 1u << 5;
    public const int ErrorTypeShift = 6, ErrorTypeBits = 3;
}

/// <summary>C <c>HsaClockCounters</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct HsaClockCounters
{
    public const int Size = 32;
    [FieldOffset(0)] public ulong GPUClockCounter;
    [FieldOffset(8)] public ulong CPUClockCounter;
    [FieldOffset(16)] public ulong SystemClockCounter;
    [FieldOffset(24)] public ulong SystemClockFrequencyHz;
}

/// <summary>C <c>HsaDeviceStateChange</c> (structure, 12 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct HsaDeviceStateChange
{
    public const int Size = 12;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint Device;
    [FieldOffset(8)] public uint Flags;
}

/// <summary>C <c>HsaEvent</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct HsaEvent
{
    public const int Size = 48;
    [FieldOffset(0)] public uint EventId;
    [FieldOffset(4)] public HsaEventData EventData;
}

/// <summary>C <c>HsaEventData</c> (structure, 44 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 44)]
public struct HsaEventData
{
    public const int Size = 44;
    [FieldOffset(0)] public uint EventType;
    [FieldOffset(4)] public Bytesx20 EventData;
    [FieldOffset(24)] public ulong HWData1;
    [FieldOffset(32)] public ulong HWData2;
    [FieldOffset(40)] public uint HWData3;
}

/// <summary>C <c>HsaEventDescriptor</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct HsaEventDescriptor
{
    public const int Size = 24;
    [FieldOffset(0)] public uint EventType;
    [FieldOffset(4)] public uint NodeId;
    [FieldOffset(8)] public HsaSyncVar SyncVar;
}

/// <summary>C <c>HsaGpuTileConfig</c> (structure, 64 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct HsaGpuTileConfig
{
    public const int Size = 64;
    [FieldOffset(0)] public ulong TileConfig;
    [FieldOffset(8)] public ulong MacroTileConfig;
    [FieldOffset(16)] public uint NumTileConfigs;
    [FieldOffset(20)] public uint NumMacroTileConfigs;
    [FieldOffset(24)] public uint GbAddrConfig;
    [FieldOffset(28)] public uint NumBanks;
    [FieldOffset(32)] public uint NumRanks;
    [FieldOffset(36)] public U32x7 Reserved;
}

/// <summary>C <c>HsaGraphicsResourceInfo</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct HsaGraphicsResourceInfo
{
    public const int Size = 32;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong SizeInBytes;
    [FieldOffset(16)] public ulong Metadata;
    [FieldOffset(24)] public uint MetadataSizeInBytes;
    [FieldOffset(28)] public uint NodeId;
}

/// <summary>C <c>HsaHwException</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct HsaHwException
{
    public const int Size = 16;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint ResetType;
    [FieldOffset(8)] public uint MemoryLost;
    [FieldOffset(12)] public uint ResetCause;
}

/// <summary>C <c>HsaMemFlags</c> (structure, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HsaMemFlags
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Value;

    // Bit positions of the C bitfield (PROTOCOL.md §4.8).
    public const uint NonPaged = 1u << 0, ReadOnly = 1u << 3, HostAccess = 1u << 6, NoSubstitute = 1u << 7,
        GDSMemory = 1u << 8, Scratch = 1u << 9, AtomicAccessFull = 1u << 10, AtomicAccessPartial = 1u << 11,
        ExecuteAccess = 1u << 12, CoarseGrain = 1u << 13, AQLQueueMemory = 1u << 14, FixedAddress = 1u << 15,
        NoNUMABind = 1u << 16, Uncached = 1u << 17, NoAddress = 1u << 18, OnlyAddress = 1u << 19,
        ExtendedCoherent = 1u << 20, GTTAccess = 1u << 21, Contiguous = 1u << 22, ExecuteBlit = 1u << 23;
    public const int CachePolicyShift = 1, PageSizeShift = 4;

    public HsaMemFlags(uint value) => Value = value;
    public readonly bool Has(uint bit) => (Value & bit) != 0;
}

/// <summary>C <c>HsaMemoryAccessFault</c> (structure, 20 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
public struct HsaMemoryAccessFault
{
    public const int Size = 20;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public ulong VirtualAddress;
    [FieldOffset(12)] public HsaAccessAttributeFailure Failure;
    [FieldOffset(16)] public uint Flags;
}

/// <summary>C <c>HsaNodeChange</c> (structure, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct HsaNodeChange
{
    public const int Size = 4;
    [FieldOffset(0)] public uint Flags;
}

/// <summary>C <c>HsaNodeProperties</c> (structure, 368 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 368)]
public struct HsaNodeProperties
{
    public const int Size = 368;
    [FieldOffset(0)] public uint NumCPUCores;
    [FieldOffset(4)] public uint NumFComputeCores;
    [FieldOffset(8)] public uint NumNeuralCores;
    [FieldOffset(12)] public uint NumMemoryBanks;
    [FieldOffset(16)] public uint NumCaches;
    [FieldOffset(20)] public uint NumIOLinks;
    [FieldOffset(24)] public uint CComputeIdLo;
    [FieldOffset(28)] public uint FComputeIdLo;
    [FieldOffset(32)] public HSA_CAPABILITY Capability;
    [FieldOffset(36)] public HSA_CAPABILITY2 Capability2;
    [FieldOffset(40)] public uint MaxWavesPerSIMD;
    [FieldOffset(44)] public uint LDSSizeInKB;
    [FieldOffset(48)] public uint GDSSizeInKB;
    [FieldOffset(52)] public uint WaveFrontSize;
    [FieldOffset(56)] public uint NumShaderBanks;
    [FieldOffset(60)] public uint NumArrays;
    [FieldOffset(64)] public uint NumCUPerArray;
    [FieldOffset(68)] public uint NumSIMDPerCU;
    [FieldOffset(72)] public uint MaxSlotsScratchCU;
    [FieldOffset(76)] public HSA_ENGINE_ID EngineId;
    [FieldOffset(80)] public HSA_ENGINE_ID OverrideEngineId;
    [FieldOffset(84)] public ushort VendorId;
    [FieldOffset(86)] public ushort DeviceId;
    [FieldOffset(88)] public uint LocationId;
    [FieldOffset(92)] public ulong LocalMemSize;
    [FieldOffset(100)] public uint MaxEngineClockMhzFCompute;
    [FieldOffset(104)] public uint MaxEngineClockMhzCCompute;
    [FieldOffset(108)] public int DrmRenderMinor;
    [FieldOffset(112)] public U16x64 MarketingName;
    [FieldOffset(240)] public Bytesx64 AMDName;
    [FieldOffset(304)] public HSA_ENGINE_VERSION uCodeEngineVersions;
    [FieldOffset(308)] public HSA_DEBUG_PROPERTIES DebugProperties;
    [FieldOffset(316)] public ulong HiveID;
    [FieldOffset(324)] public uint NumSdmaEngines;
    [FieldOffset(328)] public uint NumSdmaXgmiEngines;
    [FieldOffset(332)] public byte NumSdmaQueuesPerEngine;
    [FieldOffset(333)] public byte NumCpQueues;
    [FieldOffset(334)] public byte NumGws;
    [FieldOffset(335)] public byte Integrated;
    [FieldOffset(336)] public uint Domain;
    [FieldOffset(340)] public ulong UniqueID;
    [FieldOffset(348)] public uint VGPRSizePerCU;
    [FieldOffset(352)] public uint SGPRSizePerCU;
    [FieldOffset(356)] public uint NumXcc;
    [FieldOffset(360)] public uint KFDGpuID;
    [FieldOffset(364)] public uint FamilyID;
}

/// <summary>C <c>HsaPointerInfo</c> (structure, 68 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 68)]
public struct HsaPointerInfo
{
    public const int Size = 68;
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Node;
    [FieldOffset(8)] public HsaMemFlags MemFlags;
    [FieldOffset(12)] public ulong CPUAddress;
    [FieldOffset(20)] public ulong GPUAddress;
    [FieldOffset(28)] public ulong SizeInBytes;
    [FieldOffset(36)] public uint NRegisteredNodes;
    [FieldOffset(40)] public uint NMappedNodes;
    [FieldOffset(44)] public ulong RegisteredNodes;
    [FieldOffset(52)] public ulong MappedNodes;
    [FieldOffset(60)] public ulong UserData;
}

/// <summary>C <c>HsaQueueInfo</c> (structure, 68 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 68)]
public struct HsaQueueInfo
{
    public const int Size = 68;
    [FieldOffset(0)] public uint QueueDetailError;
    [FieldOffset(4)] public uint QueueTypeExtended;
    [FieldOffset(8)] public uint NumCUAssigned;
    [FieldOffset(12)] public ulong CUMaskInfo;
    [FieldOffset(20)] public ulong UserContextSaveArea;
    [FieldOffset(28)] public ulong SaveAreaSizeInBytes;
    [FieldOffset(36)] public ulong ControlStackTop;
    [FieldOffset(44)] public ulong ControlStackUsedInBytes;
    [FieldOffset(52)] public ulong SaveAreaHeader;
    [FieldOffset(60)] public ulong Reserved2;
}

/// <summary>C <c>HsaQueueResource</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct HsaQueueResource
{
    public const int Size = 40;
    [FieldOffset(0)] public ulong QueueId;
    [FieldOffset(8)] public ulong Queue_DoorBell;
    [FieldOffset(8)] public ulong Queue_DoorBell_aql;
    [FieldOffset(8)] public ulong QueueDoorBell;
    [FieldOffset(16)] public ulong Queue_write_ptr;
    [FieldOffset(16)] public ulong Queue_write_ptr_aql;
    [FieldOffset(16)] public ulong QueueWptrValue;
    [FieldOffset(24)] public ulong Queue_read_ptr;
    [FieldOffset(24)] public ulong Queue_read_ptr_aql;
    [FieldOffset(24)] public ulong QueueRptrValue;
    [FieldOffset(32)] public ulong ErrorReason;
}

/// <summary>C <c>HsaSyncVar</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct HsaSyncVar
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong SyncVar;
    [FieldOffset(8)] public ulong SyncVarSize;
}

/// <summary>C <c>HsaSystemProperties</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct HsaSystemProperties
{
    public const int Size = 16;
    [FieldOffset(0)] public uint NumNodes;
    [FieldOffset(4)] public uint PlatformOem;
    [FieldOffset(8)] public uint PlatformId;
    [FieldOffset(12)] public uint PlatformRev;
}

/// <summary>C <c>HsaVersionInfo</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct HsaVersionInfo
{
    public const int Size = 8;
    [FieldOffset(0)] public uint KernelInterfaceMajorVersion;
    [FieldOffset(4)] public uint KernelInterfaceMinorVersion;
}
