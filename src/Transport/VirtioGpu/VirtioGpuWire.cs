using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Transport.VirtioGpu;

// virtio-gpu control/cursor queue structs, as in linux/virtio_gpu.h (all little-endian on the wire; this host is
// x86-64/arm64 little-endian, so the structs are read and written in place). The layout tests compile the real
// header with gcc and compare size and every field offset.

/// <summary>C <c>struct virtio_gpu_ctrl_hdr</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct VirtioGpuCtrlHdr
{
    public const int Size = 24;
    [FieldOffset(0)] public uint type;
    [FieldOffset(4)] public uint flags;
    [FieldOffset(8)] public ulong fence_id;
    [FieldOffset(16)] public uint ctx_id;
    [FieldOffset(20)] public byte ring_idx;
    [FieldOffset(21)] public Bytesx3 padding;
}

/// <summary>C <c>struct virtio_gpu_cursor_pos</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VirtioGpuCursorPos
{
    public const int Size = 16;
    [FieldOffset(0)] public uint scanout_id;
    [FieldOffset(4)] public uint x;
    [FieldOffset(8)] public uint y;
    [FieldOffset(12)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_update_cursor</c> (structure, 56 bytes); UPDATE_CURSOR and MOVE_CURSOR.</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct VirtioGpuUpdateCursor
{
    public const int Size = 56;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuCursorPos pos;
    [FieldOffset(40)] public uint resource_id;
    [FieldOffset(44)] public uint hot_x;
    [FieldOffset(48)] public uint hot_y;
    [FieldOffset(52)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_rect</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VirtioGpuRect
{
    public const int Size = 16;
    [FieldOffset(0)] public uint x;
    [FieldOffset(4)] public uint y;
    [FieldOffset(8)] public uint width;
    [FieldOffset(12)] public uint height;
}

/// <summary>C <c>struct virtio_gpu_resource_unref</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuResourceUnref
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_resource_create_2d</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct VirtioGpuResourceCreate2d
{
    public const int Size = 40;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint format;
    [FieldOffset(32)] public uint width;
    [FieldOffset(36)] public uint height;
}

/// <summary>C <c>struct virtio_gpu_set_scanout</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct VirtioGpuSetScanout
{
    public const int Size = 48;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuRect r;
    [FieldOffset(40)] public uint scanout_id;
    [FieldOffset(44)] public uint resource_id;
}

/// <summary>C <c>struct virtio_gpu_resource_flush</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct VirtioGpuResourceFlush
{
    public const int Size = 48;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuRect r;
    [FieldOffset(40)] public uint resource_id;
    [FieldOffset(44)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_transfer_to_host_2d</c> (structure, 56 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct VirtioGpuTransferToHost2d
{
    public const int Size = 56;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuRect r;
    [FieldOffset(40)] public ulong offset;
    [FieldOffset(48)] public uint resource_id;
    [FieldOffset(52)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_mem_entry</c> (structure, 16 bytes); follows ATTACH_BACKING and CREATE_BLOB.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VirtioGpuMemEntry
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong addr;
    [FieldOffset(8)] public uint length;
    [FieldOffset(12)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_resource_attach_backing</c> (structure, 32 bytes); nr_entries mem entries follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuResourceAttachBacking
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint nr_entries;
}

/// <summary>C <c>struct virtio_gpu_resource_detach_backing</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuResourceDetachBacking
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_display_one</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct VirtioGpuDisplayOne
{
    public const int Size = 24;
    [FieldOffset(0)] public VirtioGpuRect r;
    [FieldOffset(16)] public uint enabled;
    [FieldOffset(20)] public uint flags;
}

/// <summary>C <c>struct virtio_gpu_display_one pmodes[VIRTIO_GPU_MAX_SCANOUTS]</c>.</summary>
[InlineArray(VirtioGpuConst.VIRTIO_GPU_MAX_SCANOUTS)]
public struct VirtioGpuDisplayOnex16 { private VirtioGpuDisplayOne _e0; }

/// <summary>C <c>struct virtio_gpu_resp_display_info</c> (structure, 408 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 408)]
public struct VirtioGpuRespDisplayInfo
{
    public const int Size = 408;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuDisplayOnex16 pmodes;
}

/// <summary>C <c>struct virtio_gpu_box</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct VirtioGpuBox
{
    public const int Size = 24;
    [FieldOffset(0)] public uint x;
    [FieldOffset(4)] public uint y;
    [FieldOffset(8)] public uint z;
    [FieldOffset(12)] public uint w;
    [FieldOffset(16)] public uint h;
    [FieldOffset(20)] public uint d;
}

/// <summary>C <c>struct virtio_gpu_transfer_host_3d</c> (structure, 72 bytes); TRANSFER_TO/FROM_HOST_3D.</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public struct VirtioGpuTransferHost3d
{
    public const int Size = 72;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuBox box;
    [FieldOffset(48)] public ulong offset;
    [FieldOffset(56)] public uint resource_id;
    [FieldOffset(60)] public uint level;
    [FieldOffset(64)] public uint stride;
    [FieldOffset(68)] public uint layer_stride;
}

/// <summary>C <c>struct virtio_gpu_resource_create_3d</c> (structure, 72 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public struct VirtioGpuResourceCreate3d
{
    public const int Size = 72;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint target;
    [FieldOffset(32)] public uint format;
    [FieldOffset(36)] public uint bind;
    [FieldOffset(40)] public uint width;
    [FieldOffset(44)] public uint height;
    [FieldOffset(48)] public uint depth;
    [FieldOffset(52)] public uint array_size;
    [FieldOffset(56)] public uint last_level;
    [FieldOffset(60)] public uint nr_samples;
    [FieldOffset(64)] public uint flags;
    [FieldOffset(68)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_ctx_create</c> (structure, 96 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
public struct VirtioGpuCtxCreate
{
    public const int Size = 96;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint nlen;
    /// <summary>Bits 0-7: capset id (<see cref="VirtioGpuConst.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK"/>).</summary>
    [FieldOffset(28)] public uint context_init;
    /// <summary>Not NUL-terminated; only the first <c>nlen</c> bytes are meaningful (guest-controlled).</summary>
    [FieldOffset(32)] public Bytesx64 debug_name;
}

/// <summary>C <c>struct virtio_gpu_ctx_destroy</c> (structure, 24 bytes): the header only.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct VirtioGpuCtxDestroy
{
    public const int Size = 24;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
}

/// <summary>C <c>struct virtio_gpu_ctx_resource</c> (structure, 32 bytes); CTX_ATTACH/DETACH_RESOURCE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuCtxResource
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_cmd_submit</c> (structure, 32 bytes); <c>size</c> bytes of ccmds follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuCmdSubmit
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint size;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_get_capset_info</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuGetCapsetInfo
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint capset_index;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_resp_capset_info</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct VirtioGpuRespCapsetInfo
{
    public const int Size = 40;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint capset_id;
    [FieldOffset(28)] public uint capset_max_version;
    [FieldOffset(32)] public uint capset_max_size;
    [FieldOffset(36)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_get_capset</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuGetCapset
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint capset_id;
    [FieldOffset(28)] public uint capset_version;
}

/// <summary>C <c>struct virtio_gpu_resp_capset</c> (structure, 24 bytes): the header; capset_data[] follows.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct VirtioGpuRespCapset
{
    public const int Size = 24;
    /// <summary>Offset of the flexible <c>capset_data[]</c> member.</summary>
    public const int CapsetDataOffset = 24;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
}

/// <summary>C <c>struct virtio_gpu_cmd_get_edid</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuCmdGetEdid
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint scanout;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>__u8 edid[1024]</c>.</summary>
[InlineArray(1024)]
public struct Bytesx1024 { private byte _e0; }

/// <summary>C <c>struct virtio_gpu_resp_edid</c> (structure, 1056 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 1056)]
public struct VirtioGpuRespEdid
{
    public const int Size = 1056;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint size;
    [FieldOffset(28)] public uint padding;
    [FieldOffset(32)] public Bytesx1024 edid;
}

/// <summary>C <c>struct virtio_gpu_config</c> (structure, 16 bytes): the device config space.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VirtioGpuConfig
{
    public const int Size = 16;
    [FieldOffset(0)] public uint events_read;
    [FieldOffset(4)] public uint events_clear;
    [FieldOffset(8)] public uint num_scanouts;
    [FieldOffset(12)] public uint num_capsets;
}

/// <summary>C <c>struct virtio_gpu_resource_assign_uuid</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuResourceAssignUuid
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_resp_resource_uuid</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct VirtioGpuRespResourceUuid
{
    public const int Size = 40;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public Bytesx16 uuid;
}

/// <summary>C <c>struct virtio_gpu_resource_create_blob</c> (structure, 56 bytes); nr_entries mem entries follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct VirtioGpuResourceCreateBlob
{
    public const int Size = 56;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint blob_mem;
    [FieldOffset(32)] public uint blob_flags;
    [FieldOffset(36)] public uint nr_entries;
    [FieldOffset(40)] public ulong blob_id;
    [FieldOffset(48)] public ulong size;
}

/// <summary>C <c>struct virtio_gpu_set_scanout_blob</c> (structure, 96 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
public struct VirtioGpuSetScanoutBlob
{
    public const int Size = 96;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public VirtioGpuRect r;
    [FieldOffset(40)] public uint scanout_id;
    [FieldOffset(44)] public uint resource_id;
    [FieldOffset(48)] public uint width;
    [FieldOffset(52)] public uint height;
    [FieldOffset(56)] public uint format;
    [FieldOffset(60)] public uint padding;
    [FieldOffset(64)] public U32x4 strides;
    [FieldOffset(80)] public U32x4 offsets;
}

/// <summary>C <c>struct virtio_gpu_resource_map_blob</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct VirtioGpuResourceMapBlob
{
    public const int Size = 40;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
    /// <summary>Byte offset inside the host-visible shared memory region (shmid 1).</summary>
    [FieldOffset(32)] public ulong offset;
}

/// <summary>C <c>struct virtio_gpu_resp_map_info</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuRespMapInfo
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint map_info;
    [FieldOffset(28)] public uint padding;
}

/// <summary>C <c>struct virtio_gpu_resource_unmap_blob</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VirtioGpuResourceUnmapBlob
{
    public const int Size = 32;
    [FieldOffset(0)] public VirtioGpuCtrlHdr hdr;
    [FieldOffset(24)] public uint resource_id;
    [FieldOffset(28)] public uint padding;
}
