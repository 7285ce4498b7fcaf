using System.Runtime.InteropServices;

namespace VhsaKmt.Native.Hsa;

// Array elements of the topology queries (profile H25, PROTOCOL.md §4.8). Not embedded in the
// protocol header, so they are absent from layouts/*.json; their tests use PROTOCOL.md's tables.

/// <summary>C <c>HsaMemoryProperties</c> (32 bytes, pack 4).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct HsaMemoryProperties
{
    public const int Size = 32;
    [FieldOffset(0)] public uint HeapType;
    [FieldOffset(4)] public ulong SizeInBytes;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public uint Width;
    [FieldOffset(20)] public uint MemoryClockMax;
    [FieldOffset(24)] public ulong VirtualBaseAddress;
}

/// <summary>C <c>HsaCacheProperties</c> (1056 bytes, pack 4).</summary>
[StructLayout(LayoutKind.Explicit, Size = 1056)]
public struct HsaCacheProperties
{
    public const int Size = 1056;
    [FieldOffset(0)] public uint ProcessorIdLow;
    [FieldOffset(4)] public uint CacheLevel;
    [FieldOffset(8)] public uint CacheSize;
    [FieldOffset(12)] public uint CacheLineSize;
    [FieldOffset(16)] public uint CacheLinesPerTag;
    [FieldOffset(20)] public uint CacheAssociativity;
    [FieldOffset(24)] public uint CacheLatency;
    [FieldOffset(28)] public uint CacheType;
    [FieldOffset(32)] public U32x256 SiblingMap;
}

/// <summary>C <c>HsaIoLinkProperties</c> (52 bytes, pack 4).</summary>
[StructLayout(LayoutKind.Explicit, Size = 52)]
public struct HsaIoLinkProperties
{
    public const int Size = 52;
    [FieldOffset(0)] public uint IoLinkType;
    [FieldOffset(4)] public uint VersionMajor;
    [FieldOffset(8)] public uint VersionMinor;
    [FieldOffset(12)] public uint NodeFrom;
    [FieldOffset(16)] public uint NodeTo;
    [FieldOffset(20)] public uint Weight;
    [FieldOffset(24)] public uint MinimumLatency;
    [FieldOffset(28)] public uint MaximumLatency;
    [FieldOffset(32)] public uint MinimumBandwidth;
    [FieldOffset(36)] public uint MaximumBandwidth;
    [FieldOffset(40)] public uint RecTransferSize;
    [FieldOffset(44)] public uint RecSdmaEngIdMask;
    [FieldOffset(48)] public uint Flags;
}
