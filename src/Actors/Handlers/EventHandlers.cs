using VhsaKmt.Actors.Objects;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Handlers;

/// <summary>
/// EVENT (cmd 3), PROTOCOL.md §4.3. Events are resolved through their res_id and the echoed handle must be that
/// object's opaque id. WAIT_ON_MULTI_EVENTS answers −38 like the reference: G-new never sends it (its waits fail
/// locally), and a real wait would need a protocol extension to deliver a late answer.
/// </summary>
public static class EventHandlers
{
    /// <summary>Highest HSA_EVENTTYPE (HSA_EVENTTYPE_MEMORY = 8).</summary>
    public const uint MaxEventType = 8;

    public static readonly CcmdHandler?[] Table = Build();

    private static CcmdHandler?[] Build()
    {
        var t = new CcmdHandler?[(int)EventType.SetTrap + 1];
        t[(int)EventType.Create] = Create;
        t[(int)EventType.Destroy] = Destroy;
        t[(int)EventType.Set] = (HandlerContext cx, ref CcmdCall c) => WithEvent(cx, ref c, static (k, e) => k.SetEvent(e.KfdHandle));
        t[(int)EventType.Reset] = (HandlerContext cx, ref CcmdCall c) => WithEvent(cx, ref c, static (k, e) => k.ResetEvent(e.KfdHandle));
        t[(int)EventType.QueryState] = (HandlerContext cx, ref CcmdCall c) => WithEvent(cx, ref c, static (k, e) => k.QueryEventState(e.KfdHandle));
        t[(int)EventType.WaitOnMultiEvents] = (HandlerContext _, ref CcmdCall _) => Errno.ENOSYS;
        t[(int)EventType.SetTrap] = SetTrap;
        return t;
    }

    private static int Reject(HandlerContext cx, in CcmdCall call, string reason, int ret = Errno.EINVAL)
    {
        cx.Log.Debug("EVENT {Subtype}: {Reason} → {Ret}", (EventType)call.Subtype, reason, ret);
        return ret;
    }

    /// <summary>Maps a blob-id check to its answer (0 = ok).</summary>
    internal static int BlobIdAnswer(TableStatus st) => st switch
    {
        TableStatus.Ok => 0,
        TableStatus.TooManyObjects => (int)HsaStatus.OutOfResources,
        _ => Errno.EINVAL,
    };

    private static int Create(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdEventReq>();
        int bad = BlobIdAnswer(cx.Objects.CheckNewBlobId(req.blob_id));
        if (bad != 0) return Reject(cx, call, $"blob_id {req.blob_id} unusable", bad);
        var desc = req.create_args.EventDesc;
        if (desc.EventType > MaxEventType) return Reject(cx, call, $"EventType {desc.EventType} unknown");
        if (!cx.IsNode(desc.NodeId)) return Reject(cx, call, $"node {desc.NodeId} unknown", (int)HsaStatus.InvalidNodeUnit);
        // SyncVar.UserData is a guest address: never hand it to the KFD as a host pointer.
        desc.SyncVar = default;
        var st = cx.Kfd.CreateEvent(desc, req.create_args.ManualReset != 0, req.create_args.IsSignaled != 0, out var ev, out ulong handle);
        if (st != HsaStatus.Success) return (int)st;
        var obj = new EventObject(handle, ev);
        cx.Objects.Park(req.blob_id, obj);
        ref var rsp = ref call.Rsp<CcmdEventRsp>();
        rsp.vevent.@event = ev;
        rsp.vevent.event_handle = obj.Id;
        return 0;
    }

    /// <summary>The event named by res_id whose opaque id the guest echoed; null if either does not match.</summary>
    private static EventObject? Resolve(HandlerContext cx, in CcmdEventReq req)
    {
        var e = cx.Objects.Bound<EventObject>(req.res_id);
        return e is not null && e.Id == req.event_hanele ? e : null;
    }

    private static int WithEvent(HandlerContext cx, ref CcmdCall call, Func<IKfd, EventObject, HsaStatus> op)
    {
        var req = call.Read<CcmdEventReq>();
        var e = Resolve(cx, req);
        if (e is null) return Reject(cx, call, $"res_id {req.res_id} / handle 0x{req.event_hanele:x} is not an event of this context");
        return (int)op(cx.Kfd, e);
    }

    private static int Destroy(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdEventReq>();
        var e = Resolve(cx, req);
        if (e is null) return Reject(cx, call, $"res_id {req.res_id} / handle 0x{req.event_hanele:x} is not an event of this context");
        cx.Objects.Unbind(e.ResId);
        cx.Releaser.ReleaseEvent(e);
        return 0;
    }

    private static int SetTrap(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdEventReq>().set_trap_handler_args;
        if (!cx.IsNode(a.NodeId)) return Reject(cx, call, $"node {a.NodeId} unknown", (int)HsaStatus.InvalidNodeUnit);
        if (!InsideObject(cx, a.TrapHandlerBaseAddress, a.TrapHandlerSizeInBytes))
            return Reject(cx, call, $"trap handler 0x{a.TrapHandlerBaseAddress:x}+0x{a.TrapHandlerSizeInBytes:x} not inside an allocation of this context");
        if (!InsideObject(cx, a.TrapBufferBaseAddress, a.TrapBufferSizeInBytes))
            return Reject(cx, call, $"trap buffer 0x{a.TrapBufferBaseAddress:x}+0x{a.TrapBufferSizeInBytes:x} not inside an allocation of this context");
        return (int)cx.Kfd.SetTrapHandler(a.NodeId, a.TrapHandlerBaseAddress, a.TrapHandlerSizeInBytes, a.TrapBufferBaseAddress, a.TrapBufferSizeInBytes);
    }

    /// <summary>A (0, 0) range means "none"; anything else must lie inside one memory object of this context.</summary>
    private static bool InsideObject(HandlerContext cx, ulong address, ulong size) =>
        (address == 0 && size == 0) || cx.Objects.FindMemory(address, size) is not null;
}
