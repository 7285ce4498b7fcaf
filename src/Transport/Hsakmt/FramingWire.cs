using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>struct vhsakmt_ccmd_nop_req</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdNopReq
{
    public const int Size = 16;
    [FieldOffset(0)] public CcmdReqHeader hdr;
}

/// <summary>C <c>struct virgl_renderer_capset_hsakmt</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct CapsetHsakmt
{
    public const int Size = 24;
    [FieldOffset(0)] public uint wire_format_version;
    [FieldOffset(4)] public uint version_major;
    [FieldOffset(8)] public uint version_minor;
    [FieldOffset(12)] public uint version_patchlevel;
    [FieldOffset(16)] public uint context_type;
    [FieldOffset(20)] public uint pad;
}

/// <summary>C <c>struct virtio_gpu_ccmd_req</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct CcmdReqHeader
{
    public const int Size = 16;
    [FieldOffset(0)] public uint cmd;
    [FieldOffset(4)] public uint len;
    [FieldOffset(8)] public uint seqno;
    [FieldOffset(12)] public uint rsp_off;
}

/// <summary>C <c>struct virtio_gpu_ccmd_rsp</c> (structure, 4 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct CcmdRspHeader
{
    public const int Size = 4;
    [FieldOffset(0)] public uint len;
}

/// <summary>C <c>struct virtio_gpu_shmem</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VhsakmtShmem
{
    public const int Size = 16;
    [FieldOffset(0)] public VhsakmtShmemBase @base;
    [FieldOffset(8)] public uint async_error;
    [FieldOffset(12)] public uint global_faults;
}

/// <summary>C <c>struct virtio_gpu_shmem_base</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct VhsakmtShmemBase
{
    public const int Size = 8;
    [FieldOffset(0)] public uint seqno;
    [FieldOffset(4)] public uint rsp_mem_offset;
}
