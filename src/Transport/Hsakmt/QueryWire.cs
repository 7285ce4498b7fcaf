using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>query_device_handle_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct QueryDeviceHandleRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong amdgpu_device_handle;
    [FieldOffset(8)] public ulong fd;
}

/// <summary>C <c>query_drm_cmd_write_read_args</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct QueryDrmCmdWriteReadArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public ulong fd;
    [FieldOffset(8)] public ulong drmCommandIndex;
    [FieldOffset(16)] public ulong size;
}

/// <summary>C <c>query_nano_time_rsp</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct QueryNanoTimeRsp
{
    public const int Size = 8;
    [FieldOffset(0)] public ulong nano_time;
}

/// <summary>C <c>query_open_kfd_args</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct QueryOpenKfdArgs
{
    public const int Size = 8;
    [FieldOffset(0)] public ulong cur_vm_start;
}

/// <summary>C <c>query_open_kfd_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct QueryOpenKfdRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong vm_start;
    [FieldOffset(8)] public ulong vm_size;
}

/// <summary>C <c>query_req_node_cache_prop_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct QueryReqNodeCachePropArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint ProcessorId;
    [FieldOffset(8)] public uint NumCaches;
    [FieldOffset(12)] public uint pad;
}

/// <summary>C <c>query_req_node_io_link_args</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct QueryReqNodeIoLinkArgs
{
    public const int Size = 8;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint NumIoLinks;
}

/// <summary>C <c>query_req_node_mem_prop_args</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct QueryReqNodeMemPropArgs
{
    public const int Size = 8;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint NumBanks;
}

/// <summary>C <c>query_req_run_time_enable_args</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct QueryReqRunTimeEnableArgs
{
    public const int Size = 8;
    [FieldOffset(0)] public Bytesx3 pad;
    [FieldOffset(3)] public byte setupTtmp;
    [FieldOffset(4)] public uint __pad;
}

/// <summary>C <c>query_spm_set_dst_buffer_args</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct QuerySpmSetDstBufferArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public uint PreferredNode;
    [FieldOffset(4)] public uint SizeInBytes;
    [FieldOffset(8)] public uint timeout;
    [FieldOffset(12)] public uint res_id;
    [FieldOffset(16)] public ulong DestMemoryAddress;
}

/// <summary>C <c>query_spm_set_dst_buffer_rsp</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct QuerySpmSetDstBufferRsp
{
    public const int Size = 16;
    [FieldOffset(0)] public uint SizeCopied;
    [FieldOffset(4)] public uint timeout;
    [FieldOffset(8)] public byte IsTileDataLoss;
    [FieldOffset(9)] public Bytesx7 pad;
}

/// <summary>C <c>query_tile_config</c> (structure, 72 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public struct QueryTileConfig
{
    public const int Size = 72;
    [FieldOffset(0)] public HsaGpuTileConfig config;
    [FieldOffset(64)] public uint NodeId;
    [FieldOffset(68)] public uint pad;
}

/// <summary>C <c>struct vhsakmt_ccmd_query_info_req</c> (structure, 128 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct CcmdQueryInfoReq
{
    public const int Size = 128;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 128;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public DrmAmdgpuInfo info;
    [FieldOffset(48)] public uint type;
    [FieldOffset(52)] public uint pad;
    [FieldOffset(56)] public ulong pointer;
    [FieldOffset(56)] public uint NodeID;
    [FieldOffset(56)] public QueryReqRunTimeEnableArgs run_time_enable_args;
    [FieldOffset(56)] public QueryReqNodeMemPropArgs node_mem_prop_args;
    [FieldOffset(56)] public QueryReqNodeCachePropArgs node_cache_prop_args;
    [FieldOffset(56)] public QueryReqNodeIoLinkArgs node_io_link_args;
    [FieldOffset(56)] public QueryTileConfig tile_config_args;
    [FieldOffset(56)] public QueryOpenKfdArgs open_kfd_args;
    [FieldOffset(56)] public QueryDrmCmdWriteReadArgs drm_cmd_write_read_args;
    [FieldOffset(56)] public QuerySpmSetDstBufferArgs spm_set_dst_buffer_args;
    [FieldOffset(56)] public int xnack_mode;
}

/// <summary>C <c>struct vhsakmt_ccmd_query_info_rsp</c> (structure, 424 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 424)]
public struct CcmdQueryInfoRsp
{
    public const int Size = 424;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 424;
    [FieldOffset(0)] public CcmdRspHeader hdr;
    [FieldOffset(4)] public int ret;
    [FieldOffset(8)] public QueryOpenKfdRsp open_kfd_rsp;
    [FieldOffset(8)] public QueryNanoTimeRsp nano_time_rsp;
    [FieldOffset(8)] public HsaGpuTileConfig tile_config_rsp;
    [FieldOffset(8)] public HsaPointerInfo ptr_info;
    [FieldOffset(8)] public AmdgpuGpuInfo gpu_info;
    [FieldOffset(8)] public HsaVersionInfo kfd_version;
    [FieldOffset(8)] public HsaSystemProperties sys_props;
    [FieldOffset(8)] public HsaNodeProperties node_props;
    [FieldOffset(8)] public int xnack_mode;
    [FieldOffset(8)] public HsaClockCounters clock_counters;
    [FieldOffset(8)] public QueryDeviceHandleRsp device_handle_rsp;
    [FieldOffset(8)] public QuerySpmSetDstBufferRsp spm_set_dst_buffer_rsp;
    [FieldOffset(8)] public uint caps;
    [FieldOffset(8)] public U64x9 pad;
}
