using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Drm;

namespace VhsaKmt.Transport.Hsakmt;

// Layouts: profile H25 / guest G-new, checked by the layout tests against shared/spec/layouts/gnew-h25.json.

/// <summary>C <c>event_req_create_args</c> (structure, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct EventReqCreateArgs
{
    public const int Size = 32;
    [FieldOffset(0)] public HsaEventDescriptor EventDesc;
    [FieldOffset(24)] public byte ManualReset;
    [FieldOffset(25)] public byte IsSignaled;
    [FieldOffset(26)] public Bytesx6 pad;
}

/// <summary>C <c>event_req_wait_args</c> (structure, 56 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct EventReqWaitArgs
{
    public const int Size = 56;
    [FieldOffset(0)] public HsaEvent Event;
    [FieldOffset(48)] public uint Milliseconds;
    [FieldOffset(52)] public uint pad;
}

/// <summary>C <c>event_req_wait_ext_args</c> (structure, 64 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct EventReqWaitExtArgs
{
    public const int Size = 64;
    [FieldOffset(0)] public HsaEvent Event;
    [FieldOffset(48)] public ulong event_age;
    [FieldOffset(56)] public uint Milliseconds;
    [FieldOffset(60)] public uint pad;
}

/// <summary>C <c>event_req_wait_on_multi_args</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct EventReqWaitOnMultiArgs
{
    public const int Size = 16;
    [FieldOffset(0)] public uint NumEvents;
    [FieldOffset(4)] public uint Milliseconds;
    [FieldOffset(8)] public byte WaitOnAll;
    [FieldOffset(9)] public Bytesx7 pad;
}

/// <summary>C <c>event_req_wait_on_multi_ext_args</c> (structure, 24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct EventReqWaitOnMultiExtArgs
{
    public const int Size = 24;
    [FieldOffset(0)] public uint NumEvents;
    [FieldOffset(4)] public uint Milliseconds;
    [FieldOffset(8)] public ulong event_age;
    [FieldOffset(16)] public byte WaitOnAll;
    [FieldOffset(17)] public Bytesx7 pad;
}

/// <summary>C <c>event_set_trap_handler_args</c> (structure, 40 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct EventSetTrapHandlerArgs
{
    public const int Size = 40;
    [FieldOffset(0)] public ulong TrapHandlerBaseAddress;
    [FieldOffset(8)] public ulong TrapHandlerSizeInBytes;
    [FieldOffset(16)] public ulong TrapBufferBaseAddress;
    [FieldOffset(24)] public ulong TrapBufferSizeInBytes;
    [FieldOffset(32)] public uint NodeId;
    [FieldOffset(36)] public uint pad;
}

/// <summary>C <c>struct vhsakmt_ccmd_event_req</c> (structure, 104 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
public struct CcmdEventReq
{
    public const int Size = 104;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 104;
    [FieldOffset(0)] public CcmdReqHeader hdr;
    [FieldOffset(16)] public HsaEvent Event;
    [FieldOffset(16)] public ulong event_hanele;
    [FieldOffset(16)] public EventReqWaitArgs wait_args;
    [FieldOffset(16)] public EventReqCreateArgs create_args;
    [FieldOffset(16)] public EventReqWaitExtArgs wait_ext_args;
    [FieldOffset(16)] public EventReqWaitOnMultiArgs wait_on_multi_args;
    [FieldOffset(16)] public EventReqWaitOnMultiExtArgs wait_on_multi_ext_args;
    [FieldOffset(16)] public EventSetTrapHandlerArgs set_trap_handler_args;
    [FieldOffset(80)] public uint type;
    [FieldOffset(84)] public uint sync_shmem_res_id;
    [FieldOffset(88)] public ulong blob_id;
    [FieldOffset(96)] public uint res_id;
    [FieldOffset(100)] public uint pad;
}

/// <summary>C <c>struct vhsakmt_ccmd_event_rsp</c> (structure, 80 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
public struct CcmdEventRsp
{
    public const int Size = 80;
    /// <summary>Offset of the variable-length <c>payload</c>.</summary>
    public const int PayloadOffset = 80;
    [FieldOffset(0)] public CcmdRspHeader hdr;
    [FieldOffset(4)] public int ret;
    [FieldOffset(8)] public vHsaEvent vevent;
}

/// <summary>C <c>struct vhsakmt_event_shmem</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct VhsakmtEventShmem
{
    public const int Size = 8;
    /// <summary>Offset of the variable-length <c>trigered_events</c>.</summary>
    public const int PayloadOffset = 8;
    [FieldOffset(0)] public uint trigered_events_num;
    [FieldOffset(4)] public uint pad;
}

/// <summary>C <c>vHsaEvent</c> (structure, 72 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public struct vHsaEvent
{
    public const int Size = 72;
    [FieldOffset(0)] public HsaEvent @event;
    [FieldOffset(48)] public ulong event_handle;
    [FieldOffset(56)] public ulong bo_handle;
    [FieldOffset(64)] public uint res_id;
    [FieldOffset(68)] public uint pad;
}
