using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>queue_req_create</c> (structure, 80 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
public struct QueueReqCreate
{
    public const int Size = 80;
    [FieldOffset(0)] public uint NodeId;
    [FieldOffset(4)] public uint Type;
    [FieldOffset(8)] public uint QueuePercentage;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(16)] public long Priority;
    [FieldOffset(24)] public uint pad1;
    [FieldOffset(28)] public uint SdmaEngineId;
    [FieldOffset(32)] public ulong QueueAddress;
    [FieldOffset(40)] public ulong QueueSizeInBytes;
    [FieldOffset(48)] public ulong Event;
    [FieldOffset(56)] public ulong QueueResource;
    [FieldOffset(64)] public ulong Queue_write_ptr_aql;
    [FieldOffset(72)] public ulong Queue_read_ptr_aql;
}

/// <summary>C <c>queue_req_update</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct QueueReqUpdate
{
    public const int Size = 40;
    [FieldOffset(0)] public ulong QueueId;
    [FieldOffset(8)] public uint QueuePercentage;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(16)] public long Priority;
    [FieldOffset(24)] public ulong QueueAddress;
    [FieldOffset(32)] public ulong QueueSizeInBytes;
}

/// <summary>C <c>struct vhsakmt_ccmd_queue_req</c> (structure, 136 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
public struct CcmdQueueReq
{
    public const int Size = 136;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 136;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public ulong QueueId;
    [FieldOffset(16)] public QueueReqCreate create_queue_args;
    [FieldOffset(16)] public QueueReqUpdate update_queue_args;
    [FieldOffset(16)] public uint CUMaskCount;
    [FieldOffset(16)] public uint nGWS;
    [FieldOffset(96)] public ulong blob_id;
    [FieldOffset(104)] public ulong rw_ptr_blob_id;
    [FieldOffset(112)] public ulong doorbell_blob_id;
    [FieldOffset(120)] public uint res_id;
    [FieldOffset(124)] public uint type;
    [FieldOffset(128)] public uint queue_mem_res_id;
    [FieldOffset(132)] public uint pad;
}

/// <summary>C <c>struct vhsakmt_ccmd_queue_rsp</c> (structure, 168 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 168)]
public struct CcmdQueueRsp
{
    public const int Size = 168;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 168;
    [FieldOffset(0)] public CcmdRspHeader hdr;
    [FieldOffset(4)] public int ret;
    [FieldOffset(8)] public vHsaQueueResource vqueue_res;
    [FieldOffset(96)] public uint pad;
    [FieldOffset(100)] public HsaQueueInfo queue_info;
}

/// <summary>C <c>vHsaQueueResource</c> (structure, 88 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
public struct vHsaQueueResource
{
    public const int Size = 88;
    [FieldOffset(0)] public HsaQueueResource r;
    [FieldOffset(40)] public ulong host_doorbell;
    [FieldOffset(48)] public ulong host_doorbell_offset;
    [FieldOffset(56)] public ulong host_write_offset;
    [FieldOffset(64)] public ulong host_read_offset;
    [FieldOffset(72)] public ulong host_rw_handle;
    [FieldOffset(80)] public ulong queue_handle;
}
