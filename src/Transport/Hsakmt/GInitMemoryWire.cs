using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.Hsakmt;

// G-init (first public guest revision, wire-identical to H-1370) MEMORY request, PROTOCOL.md §4.4 / §4.10; offsets
// from shared/spec/layouts/ginit-h25.json. Every other family is identical to G-new.

/// <summary>C <c>struct vhsakmt_ccmd_memory_req</c> of G-init (80 bytes): 48-byte union @16, blob_id @64, type @72, res_id @76.</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
public struct GInitCcmdMemoryReq
{
    public const int Size = 80;
    public const int PayloadOffset = 80;
    public const int UnionOffset = 16, UnionSize = 48;
    /// <summary>G-init's MEMORY response (hdr, ret, 16-byte union): the first 24 bytes of the G-new response.</summary>
    public const int ResponseSize = 24;
    /// <summary>G-init knows MEMORY subtypes 0..8 only.</summary>
    public const uint MaxSubtype = 8;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public ulong MemoryAddress;
    [FieldOffset(16)] public uint Node;
    [FieldOffset(16)] public GInitMemoryReqAllocArgs alloc_args;
    [FieldOffset(16)] public MemoryReqMapToGPUNodesArgs map_to_GPU_nodes_args;
    [FieldOffset(16)] public MemoryReqFreeArgs free_args;
    [FieldOffset(16)] public MemoryMapMemToGpuArgs map_to_GPU_args;
    [FieldOffset(16)] public MemoryRegMemWithFlag reg_mem_with_flag;
    [FieldOffset(64)] public ulong blob_id;
    [FieldOffset(72)] public uint type;
    [FieldOffset(76)] public uint res_id;
}

/// <summary>C <c>memory_req_alloc_args</c> of G-init (24 bytes): no <c>Alignment</c>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct GInitMemoryReqAllocArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public uint PreferredNode;
    [FieldOffset(4)] public VhsaKmt.Native.Hsa.HsaMemFlags MemFlags;
    [FieldOffset(8)] public ulong SizeInBytes;
    [FieldOffset(16)] public ulong MemoryAddress;
}
