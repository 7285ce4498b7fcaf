using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>gl_inter_req_reg_ghd_to_nodes</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct GlInterReqRegGhdToNodes
{
    public const int Size = 24;
    [FieldOffset(0)] public ulong GraphicsResourceHandle;
    [FieldOffset(8)] public ulong NumberOfNodes;
    [FieldOffset(16)] public uint res_handle;
    [FieldOffset(20)] public uint flag;
}

/// <summary>C <c>struct vhsakmt_ccmd_gl_inter_req</c> (structure, 48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct CcmdGlInterReq
{
    public const int Size = 48;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 48;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public GlInterReqRegGhdToNodes reg_ghd_to_nodes;
    [FieldOffset(40)] public uint type;
    [FieldOffset(44)] public uint pad;
}

/// <summary>C <c>struct vhsakmt_ccmd_gl_inter_rsp</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct CcmdGlInterRsp
{
    public const int Size = 40;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 40;
    [FieldOffset(0)] public CcmdRspHeader hdr;
    [FieldOffset(4)] public int ret;
    [FieldOffset(8)] public HsaGraphicsResourceInfo info;
}
