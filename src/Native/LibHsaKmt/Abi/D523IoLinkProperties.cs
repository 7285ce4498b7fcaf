using System.Runtime.InteropServices;

namespace VhsaKmt.Native.LibHsaKmt.Abi;

/// <summary>HsaIoLinkProperties of Debian libhsakmt 5.2.3 (48 bytes: no RecSdmaEngIdMask, Flags at 44).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct D523IoLinkProperties
{
    public const int Size = 48;
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
    [FieldOffset(44)] public uint Flags;
}
