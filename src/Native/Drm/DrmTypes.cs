using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Drm;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>struct amdgpu_bo_import_result</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct AmdgpuBoImportResult
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong buf_handle;
    [FieldOffset(8)] public ulong alloc_size;
}

/// <summary>C <c>struct amdgpu_bo_info</c> (structure, 312 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 312)]
public struct AmdgpuBoInfo
{
    public const int Size = 312;
    [FieldOffset(0)] public ulong alloc_size;
    [FieldOffset(8)] public ulong phys_alignment;
    [FieldOffset(16)] public uint preferred_heap;
    [FieldOffset(24)] public ulong alloc_flags;
    [FieldOffset(32)] public AmdgpuBoMetadata metadata;
}

/// <summary>C <c>struct amdgpu_bo_metadata</c> (structure, 280 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 280)]
public struct AmdgpuBoMetadata
{
    public const int Size = 280;
    [FieldOffset(0)] public ulong flags;
    [FieldOffset(8)] public ulong tiling_info;
    [FieldOffset(16)] public uint size_metadata;
    [FieldOffset(20)] public U32x64 umd_metadata;
}

/// <summary>C <c>struct amdgpu_gpu_info</c> (structure, 416 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 416)]
public struct AmdgpuGpuInfo
{
    public const int Size = 416;
    [FieldOffset(0)] public uint asic_id;
    [FieldOffset(4)] public uint chip_rev;
    [FieldOffset(8)] public uint chip_external_rev;
    [FieldOffset(12)] public uint family_id;
    [FieldOffset(16)] public ulong ids_flags;
    [FieldOffset(24)] public ulong max_engine_clk;
    [FieldOffset(32)] public ulong max_memory_clk;
    [FieldOffset(40)] public uint num_shader_engines;
    [FieldOffset(44)] public uint num_shader_arrays_per_engine;
    [FieldOffset(48)] public uint avail_quad_shader_pipes;
    [FieldOffset(52)] public uint max_quad_shader_pipes;
    [FieldOffset(56)] public uint cache_entries_per_quad_pipe;
    [FieldOffset(60)] public uint num_hw_gfx_contexts;
    [FieldOffset(64)] public uint rb_pipes;
    [FieldOffset(68)] public uint enabled_rb_pipes_mask;
    [FieldOffset(72)] public uint gpu_counter_freq;
    [FieldOffset(76)] public U32x4 backend_disable;
    [FieldOffset(92)] public uint mc_arb_ramcfg;
    [FieldOffset(96)] public uint gb_addr_cfg;
    [FieldOffset(100)] public U32x32 gb_tile_mode;
    [FieldOffset(228)] public U32x16 gb_macro_tile_mode;
    [FieldOffset(292)] public U32x4 pa_sc_raster_cfg;
    [FieldOffset(308)] public U32x4 pa_sc_raster_cfg1;
    [FieldOffset(324)] public uint cu_active_number;
    [FieldOffset(328)] public uint cu_ao_mask;
    [FieldOffset(332)] public U32x16 cu_bitmap;
    [FieldOffset(396)] public uint vram_type;
    [FieldOffset(400)] public uint vram_bit_width;
    [FieldOffset(404)] public uint ce_ram_size;
    [FieldOffset(408)] public uint vce_harvest_config;
    [FieldOffset(412)] public uint pci_rev_id;
}

/// <summary>C <c>struct drm_amdgpu_info</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct DrmAmdgpuInfo
{
    public const int Size = 32;
    [FieldOffset(0)] public ulong return_pointer;
    [FieldOffset(8)] public uint return_size;
    [FieldOffset(12)] public uint query;
    [FieldOffset(16)] public ulong mode_crtc;
    [FieldOffset(16)] public ulong query_hw_ip;
    [FieldOffset(16)] public Bytesx16 read_mmr_reg;
    [FieldOffset(16)] public Bytesx16 query_fw;
    [FieldOffset(16)] public ulong vbios_info;
    [FieldOffset(16)] public uint sensor_info;
    [FieldOffset(16)] public uint video_cap;
}
