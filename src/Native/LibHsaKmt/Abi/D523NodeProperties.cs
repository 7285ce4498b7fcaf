using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.LibHsaKmt.Abi;

/// <summary>HsaNodeProperties of Debian libhsakmt 5.2.3 (356 bytes, pack 4; PROTOCOL.md §4.8 column D523).</summary>
[StructLayout(LayoutKind.Explicit, Size = 356)]
public struct D523NodeProperties
{
    public const int Size = 356;
    [FieldOffset(0)] public uint NumCPUCores;
    [FieldOffset(4)] public uint NumFComputeCores;
    [FieldOffset(8)] public uint NumMemoryBanks;
    [FieldOffset(12)] public uint NumCaches;
    [FieldOffset(16)] public uint NumIOLinks;
    [FieldOffset(20)] public uint CComputeIdLo;
    [FieldOffset(24)] public uint FComputeIdLo;
    [FieldOffset(28)] public uint Capability;
    [FieldOffset(32)] public uint MaxWavesPerSIMD;
    [FieldOffset(36)] public uint LDSSizeInKB;
    [FieldOffset(40)] public uint GDSSizeInKB;
    [FieldOffset(44)] public uint WaveFrontSize;
    [FieldOffset(48)] public uint NumShaderBanks;
    [FieldOffset(52)] public uint NumArrays;
    [FieldOffset(56)] public uint NumCUPerArray;
    [FieldOffset(60)] public uint NumSIMDPerCU;
    [FieldOffset(64)] public uint MaxSlotsScratchCU;
    [FieldOffset(68)] public uint EngineId;
    [FieldOffset(72)] public ushort VendorId;
    [FieldOffset(74)] public ushort DeviceId;
    [FieldOffset(76)] public uint LocationId;
    [FieldOffset(80)] public ulong LocalMemSize;
    [FieldOffset(88)] public uint MaxEngineClockMhzFCompute;
    [FieldOffset(92)] public uint MaxEngineClockMhzCCompute;
    [FieldOffset(96)] public int DrmRenderMinor;
    [FieldOffset(100)] public U16x64 MarketingName;
    [FieldOffset(228)] public Bytesx64 AMDName;
    [FieldOffset(292)] public uint uCodeEngineVersions;
    [FieldOffset(296)] public ulong DebugProperties;
    [FieldOffset(304)] public ulong HiveID;
    [FieldOffset(312)] public uint NumSdmaEngines;
    [FieldOffset(316)] public uint NumSdmaXgmiEngines;
    [FieldOffset(320)] public byte NumSdmaQueuesPerEngine;
    [FieldOffset(321)] public byte NumCpQueues;
    [FieldOffset(322)] public byte NumGws;
    [FieldOffset(324)] public uint Domain;
    [FieldOffset(328)] public ulong UniqueID;
    [FieldOffset(336)] public uint VGPRSizePerCU;
    [FieldOffset(340)] public uint SGPRSizePerCU;
    [FieldOffset(344)] public U32x3 Reserved;
}
