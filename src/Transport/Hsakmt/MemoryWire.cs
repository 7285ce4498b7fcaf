using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>memory_amdgpu_export_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct MemoryAmdgpuExportArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong buf_handle;
    [FieldOffset(8)] public uint type;
    [FieldOffset(12)] public uint pad;
}

/// <summary>C <c>memory_amdgpu_import_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct MemoryAmdgpuImportArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public long dev;
    [FieldOffset(8)] public uint type;
    [FieldOffset(12)] public uint shared_handle;
}

/// <summary>C <c>memory_amdgpu_va_op_args</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct MemoryAmdgpuVaOpArgs
{
    public const int Size = 48;
    [FieldOffset(0)] public ulong bo;
    [FieldOffset(8)] public ulong offset;
    [FieldOffset(16)] public ulong size;
    [FieldOffset(24)] public ulong addr;
    [FieldOffset(32)] public ulong flags;
    [FieldOffset(40)] public uint ops;
    [FieldOffset(44)] public uint pad;
}

/// <summary>C <c>memory_export_dmabuf_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct MemoryExportDmabufArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong MemorySizeInBytes;
}

/// <summary>C <c>memory_map_mem_to_gpu_args</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct MemoryMapMemToGpuArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong MemorySizeInBytes;
    [FieldOffset(16)] public byte need_create_bo;
    [FieldOffset(17)] public Bytesx7 pad;
}

/// <summary>C <c>memory_reg_mem_with_flag</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct MemoryRegMemWithFlag
{
    public const int Size = 24;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong MemorySizeInBytes;
    [FieldOffset(16)] public HsaMemFlags MemFlags;
    [FieldOffset(20)] public uint pad;
}

/// <summary>C <c>memory_register_shared_handle_args</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct MemoryRegisterSharedHandleArgs
{
    public const int Size = 40;
    [FieldOffset(0)] public U32x8 SharedMemoryHandle;
    [FieldOffset(32)] public ulong NumberOfNodes;
}

/// <summary>C <c>memory_req_alloc_args</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct MemoryReqAllocArgs
{
    public const int Size = 32;
    [FieldOffset(0)] public uint PreferredNode;
    [FieldOffset(4)] public HsaMemFlags MemFlags;
    [FieldOffset(8)] public ulong SizeInBytes;
    [FieldOffset(16)] public ulong MemoryAddress;
    [FieldOffset(24)] public ulong Alignment;
}

/// <summary>C <c>memory_req_free_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct MemoryReqFreeArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong SizeInBytes;
}

/// <summary>C <c>memory_req_map_to_GPU_nodes_args</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct MemoryReqMapToGPUNodesArgs
{
    public const int Size = 48;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong MemorySizeInBytes;
    [FieldOffset(16)] public ulong AlternateVAGPU;
    [FieldOffset(24)] public U32x2 pad;
    [FieldOffset(32)] public ulong NumberOfNodes;
    [FieldOffset(40)] public ulong NodeArray;
}

/// <summary>C <c>memory_set_mem_policy_args</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct MemorySetMemPolicyArgs
{
    public const int Size = 32;
    [FieldOffset(0)] public uint Node;
    [FieldOffset(4)] public uint DefaultPolicy;
    [FieldOffset(8)] public uint AlternatePolicy;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(16)] public ulong MemoryAddressAlternate;
    [FieldOffset(24)] public ulong MemorySizeInBytes;
}

/// <summary>C <c>memory_share_memory_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct MemoryShareMemoryArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong MemoryAddress;
    [FieldOffset(8)] public ulong MemorySizeInBytes;
}

/// <summary>C <c>memory_svm_attr_args</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct MemorySvmAttrArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public ulong start_addr;
    [FieldOffset(8)] public ulong size;
    [FieldOffset(16)] public uint nattr;
    [FieldOffset(20)] public uint pad;
}

/// <summary>C <c>struct _vhsakmt_ccmd_memory_amdgpu_import_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdMemoryAmdgpuImportRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public AmdgpuBoImportResult output;
}

/// <summary>C <c>struct _vhsakmt_ccmd_memory_export_dmabuf_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdMemoryExportDmabufRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public long dmabuf_fd;
    [FieldOffset(8)] public ulong offset;
}

/// <summary>C <c>struct _vhsakmt_ccmd_memory_map_userptr_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdMemoryMapUserptrRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong userptr_handle;
    [FieldOffset(8)] public uint npfns;
    [FieldOffset(12)] public uint pad;
}

/// <summary>C <c>struct _vhsakmt_ccmd_memory_register_shared_handle_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdMemoryRegisterSharedHandleRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong memory_handle;
    [FieldOffset(8)] public ulong size;
}

/// <summary>C <c>struct _vhsakmt_ccmd_memory_share_memory_rsp</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct CcmdMemoryShareMemoryRsp
{
    public const int Size = 32;
    [FieldOffset(0)] public U32x8 SharedMemoryHandle;
}

/// <summary>C <c>struct vhsakmt_ccmd_memory_req</c> (structure, 312 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 312)]
public struct CcmdMemoryReq
{
    public const int Size = 312;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 312;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public ulong MemoryAddress;
    [FieldOffset(16)] public ulong buf_handle;
    [FieldOffset(16)] public uint Node;
    [FieldOffset(16)] public MemoryReqAllocArgs alloc_args;
    [FieldOffset(16)] public MemoryReqMapToGPUNodesArgs map_to_GPU_nodes_args;
    [FieldOffset(16)] public MemoryReqFreeArgs free_args;
    [FieldOffset(16)] public MemoryMapMemToGpuArgs map_to_GPU_args;
    [FieldOffset(16)] public MemoryRegMemWithFlag reg_mem_with_flag;
    [FieldOffset(16)] public MemoryExportDmabufArgs export_dmabuf_args;
    [FieldOffset(16)] public MemoryAmdgpuImportArgs amdgpu_import_args;
    [FieldOffset(16)] public MemoryAmdgpuExportArgs amdgpu_export_args;
    [FieldOffset(16)] public MemoryAmdgpuVaOpArgs amdgpu_va_op_args;
    [FieldOffset(16)] public MemoryShareMemoryArgs share_memory_args;
    [FieldOffset(16)] public MemoryRegisterSharedHandleArgs register_shared_handle_args;
    [FieldOffset(16)] public MemorySetMemPolicyArgs set_mem_policy_args;
    [FieldOffset(16)] public MemorySvmAttrArgs svm_attr_args;
    [FieldOffset(16)] public AmdgpuBoMetadata amdgpu_bo_metadata;
    [FieldOffset(296)] public ulong blob_id;
    [FieldOffset(304)] public uint type;
    [FieldOffset(308)] public uint res_id;
}

/// <summary>C <c>struct vhsakmt_ccmd_memory_rsp</c> (structure, 320 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 320)]
public struct CcmdMemoryRsp
{
    public const int Size = 320;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 320;
    [FieldOffset(0)] public CcmdRspHeader hdr;
    [FieldOffset(4)] public int ret;
    [FieldOffset(8)] public CcmdMemoryMapUserptrRsp map_userptr_rsp;
    [FieldOffset(8)] public CcmdMemoryExportDmabufRsp export_dmabuf_rsp;
    [FieldOffset(8)] public ulong memory_handle;
    [FieldOffset(8)] public ulong alternate_vagpu;
    [FieldOffset(8)] public ulong available_bytes;
    [FieldOffset(8)] public CcmdMemoryAmdgpuImportRsp amdgpu_import_rsp;
    [FieldOffset(8)] public uint shared_handle;
    [FieldOffset(8)] public CcmdMemoryShareMemoryRsp share_memory_rsp;
    [FieldOffset(8)] public CcmdMemoryRegisterSharedHandleRsp register_shared_handle_rsp;
    [FieldOffset(8)] public AmdgpuBoInfo query_bo_info;
}
