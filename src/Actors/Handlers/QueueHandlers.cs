using System.Runtime.InteropServices;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Handlers;

/// <summary>
/// QUEUE (cmd 5), PROTOCOL.md §4.5, §5.3, §7.3. CREATE validates everything before the KFD call, so after a
/// successful hsaKmtCreateQueue the only possible failure (a NULL doorbell) is unwound by destroying the queue once;
/// nothing is parked or converted before that point.
/// </summary>
public static class QueueHandlers
{
    public const int MaxCuMaskBits = 4096, MaxGws = 128;
    private const ulong Page = 4096;

    private static readonly HashSet<uint> s_knownTypes =
    [
        HsaQueueType.Compute, HsaQueueType.Sdma, HsaQueueType.MultimediaDecode, HsaQueueType.MultimediaEncode,
        HsaQueueType.SdmaXgmi, HsaQueueType.SdmaByEngId, HsaQueueType.ComputeOs, HsaQueueType.SdmaOs,
        HsaQueueType.MultimediaDecodeOs, HsaQueueType.MultimediaEncodeOs, HsaQueueType.ComputeAql, HsaQueueType.Dma,
    ];

    public static readonly CcmdHandler?[] Table = Build();

    /// <summary>Subtypes that spawn or stop a QueueActor (IContextChildren): they run on the context's actor, never inline.</summary>
    public static readonly uint[] ActorSubtypes = [(uint)QueueType.Create, (uint)QueueType.Destroy, (uint)QueueType.Update];

    private static CcmdHandler?[] Build()
    {
        var t = new CcmdHandler?[(int)QueueType.AllocGws + 1];
        t[(int)QueueType.Create] = Create;
        t[(int)QueueType.Destroy] = Destroy;
        t[(int)QueueType.Update] = Update;
        t[(int)QueueType.GetInfo] = GetInfo;
        t[(int)QueueType.SetCuMask] = SetCuMask;
        t[(int)QueueType.AllocGws] = AllocGws;
        return t;
    }

    private static int Reject(HandlerContext cx, in CcmdCall call, string reason, int ret = Errno.EINVAL)
    {
        cx.Log.Debug("QUEUE {Subtype}: {Reason} → {Ret}", (QueueType)call.Subtype, reason, ret);
        return ret;
    }

    private static bool PriorityValid(long p) => p is >= -3 and <= 3;

    private static int Create(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdQueueReq>();
        var a = req.create_queue_args;
        bool aql = HsaQueueType.IsAql(a.Type);

        // --- validation: nothing is changed until the KFD call succeeds
        if (!cx.IsNode(a.NodeId)) return Reject(cx, call, $"node {a.NodeId} unknown", (int)HsaStatus.InvalidNodeUnit);
        if (!s_knownTypes.Contains(a.Type)) return Reject(cx, call, $"queue type {a.Type} unknown");
        if (!PriorityValid(a.Priority) || a.QueuePercentage > 100) return Reject(cx, call, $"priority {a.Priority} / percentage {a.QueuePercentage} out of range");
        if (cx.State.LiveQueues >= cx.Settings.MaxQueues) return Reject(cx, call, $"{cx.Settings.MaxQueues} queues already", (int)HsaStatus.OutOfResources);

        ulong doorbellId = req.doorbell_blob_id;
        ulong rwId = aql ? 0 : req.rw_ptr_blob_id;
        int objects = 1 + (doorbellId != 0 ? 1 : 0) + (rwId != 0 ? 1 : 0);
        foreach (var (id, what) in new[] { (req.blob_id, "queue"), (doorbellId, "doorbell"), (rwId, "r/w") })
        {
            if (id == 0 && what != "queue") continue;
            int bad = EventHandlers.BlobIdAnswer(cx.Objects.CheckNewBlobId(id));
            if (bad != 0) return Reject(cx, call, $"{what} blob_id {id} unusable", bad);
        }
        if ((doorbellId != 0 && (doorbellId == req.blob_id || doorbellId == rwId)) || (rwId != 0 && rwId == req.blob_id))
            return Reject(cx, call, "queue/doorbell/rw blob ids are not distinct");
        if (!cx.Objects.HasRoom(objects)) return Reject(cx, call, "object limit", (int)HsaStatus.OutOfResources);

        var ring = cx.Objects.Bound<MemoryObject>(req.queue_mem_res_id);
        if (ring is null || ring.Placement != MemoryPlacement.Slice || !ring.Covers(a.QueueAddress, a.QueueSizeInBytes) || a.QueueSizeInBytes == 0)
            return Reject(cx, call, $"ring 0x{a.QueueAddress:x}+0x{a.QueueSizeInBytes:x} not inside allocation res_id {req.queue_mem_res_id}");
        MemoryObject? rw = null;
        if (aql)
        {
            rw = cx.Objects.Bound<MemoryObject>(req.res_id);
            if (rw is null || rw.Placement != MemoryPlacement.Slice || !rw.Covers(a.Queue_write_ptr_aql, 8) || !rw.Covers(a.Queue_read_ptr_aql, 8))
                return Reject(cx, call, $"AQL r/w pointers not inside allocation res_id {req.res_id}");
        }
        ulong kfdEvent = 0;
        if (a.Event != 0)
        {
            var ev = cx.Objects.FindEvent(a.Event);
            if (ev is null) return Reject(cx, call, $"event 0x{a.Event:x} is not an event of this context");
            kfdEvent = ev.KfdHandle;
        }

        // --- the KFD call
        var args = new QueueCreateArgs(a.NodeId, a.Type, a.QueuePercentage, a.Priority, a.SdmaEngineId,
            a.QueueAddress, a.QueueSizeInBytes, kfdEvent, aql ? a.Queue_write_ptr_aql : 0, aql ? a.Queue_read_ptr_aql : 0);
        var st = cx.Kfd.CreateQueue(args, out var created);
        if (st != HsaStatus.Success) return (int)st;
        if (created is null || created.Resource.QueueDoorBell == 0 || (rwId != 0 && created.RwPointerPage is null))
        {
            // Exact unwind: only the KFD queue exists at this point; destroy it once (§5.3).
            if (created is not null) cx.Kfd.DestroyQueue(created.QueueHandle);
            return Reject(cx, call, "KFD queue without doorbell / r-w page", (int)HsaStatus.Error);
        }

        // --- commit (cannot fail: every id and limit was checked above)
        var q = new QueueObject(created, a.NodeId, a.Type, a.QueueSizeInBytes) { Ring = ring, RwMemory = rw };
        ring.QueueLinks.Add(q);
        if (rw is not null && !ReferenceEquals(rw, ring)) rw.QueueLinks.Add(q);
        var res = created.Resource;
        ulong dbOffset = res.QueueDoorBell - created.DoorbellPageAddress;
        if (doorbellId != 0)
            cx.Objects.Park(doorbellId, new PageObject(ObjectKind.DoorbellPtr, created.DoorbellPageAddress, created.DoorbellPageSize, created.DoorbellPage));
        ulong rwPage = res.QueueWptrValue & ~(Page - 1);
        if (rwId != 0)
            cx.Objects.Park(rwId, new PageObject(ObjectKind.DoorbellRwPtr, rwPage, Page, created.RwPointerPage!));
        cx.Objects.Park(req.blob_id, q);
        cx.State.LiveQueues++;
        cx.Children.SpawnQueue(q);

        ref var rsp = ref call.Rsp<CcmdQueueRsp>();
        rsp.vqueue_res.r = res;
        rsp.vqueue_res.r.QueueId = q.Id; // opaque, non-zero: never the thunk's struct queue pointer
        if (!cx.InContextVa(res.ErrorReason, 8)) rsp.vqueue_res.r.ErrorReason = 0;
        rsp.vqueue_res.host_doorbell = res.QueueDoorBell;
        rsp.vqueue_res.host_doorbell_offset = dbOffset;
        if (!aql)
        {
            rsp.vqueue_res.host_rw_handle = rwPage;
            rsp.vqueue_res.host_write_offset = res.QueueWptrValue - rwPage;
            rsp.vqueue_res.host_read_offset = res.QueueRptrValue - rwPage;
        }
        rsp.vqueue_res.queue_handle = q.Id;
        return 0;
    }

    private static QueueObject? Queue(HandlerContext cx, uint resId) => cx.Objects.Bound<QueueObject>(resId);

    private static int Destroy(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdQueueReq>().res_id;
        var q = Queue(cx, resId);
        if (q is null) return Reject(cx, call, $"res_id {resId} is not a queue of this context");
        cx.Objects.Unbind(resId);
        cx.Children.Retire(q);
        return 0;
    }

    private static int Update(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdQueueReq>();
        var a = req.update_queue_args;
        var q = Queue(cx, req.res_id);
        if (q is null) return Reject(cx, call, $"res_id {req.res_id} is not a queue of this context");
        if (!PriorityValid(a.Priority) || a.QueuePercentage > 100) return Reject(cx, call, "priority / percentage out of range");
        var ring = cx.Objects.Bound<MemoryObject>(req.queue_mem_res_id);
        if (ring is null || ring.Placement != MemoryPlacement.Slice || a.QueueSizeInBytes == 0 || !ring.Covers(a.QueueAddress, a.QueueSizeInBytes))
            return Reject(cx, call, $"ring 0x{a.QueueAddress:x}+0x{a.QueueSizeInBytes:x} not inside allocation res_id {req.queue_mem_res_id}");
        var st = cx.Kfd.UpdateQueue(q.KfdHandle, a.QueuePercentage, a.Priority, a.QueueAddress, a.QueueSizeInBytes);
        if (st == HsaStatus.Success && !ReferenceEquals(ring, q.Ring))
        {
            var old = q.Ring;
            ring.QueueLinks.Add(q);
            q.Ring = ring;
            if (old is not null && old.QueueLinks.Remove(q) && !old.IsQueueMem && old.GuestRemoved)
                cx.Children.Retire(old);
        }
        return (int)st;
    }

    private static int GetInfo(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdQueueReq>().res_id;
        var q = Queue(cx, resId);
        if (q is null) return Reject(cx, call, $"res_id {resId} is not a queue of this context");
        var st = cx.Kfd.GetQueueInfo(q.KfdHandle, out var info);
        // Host pointers stay on the host unless they are mirrored addresses of this context.
        if (!cx.InContextVa(info.CUMaskInfo, 1)) info.CUMaskInfo = 0;
        if (!cx.InContextVa(info.UserContextSaveArea, 1)) info.UserContextSaveArea = 0;
        if (!cx.InContextVa(info.ControlStackTop, 1)) info.ControlStackTop = 0;
        if (!cx.InContextVa(info.SaveAreaHeader, 1)) info.SaveAreaHeader = 0;
        call.Rsp<CcmdQueueRsp>().queue_info = info;
        return (int)st;
    }

    private static int SetCuMask(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdQueueReq>();
        uint bits = req.CUMaskCount;
        var q = Queue(cx, req.res_id);
        if (q is null) return Reject(cx, call, $"res_id {req.res_id} is not a queue of this context");
        uint limit = MaxCuMaskBits;
        if (cx.Kfd.GetNodeProperties(q.Node, out var np) == HsaStatus.Success && np.NumSIMDPerCU != 0)
            limit = Math.Min(limit, (np.NumFComputeCores / np.NumSIMDPerCU + 31) / 32 * 32);
        if (bits == 0 || bits % 32 != 0 || bits > limit) return Reject(cx, call, $"CUMaskCount {bits} bits not a multiple of 32 in 32..{limit}");
        var payload = call.Payload(CcmdQueueReq.PayloadOffset);
        if (payload.Length < bits / 8) return Reject(cx, call, $"payload {payload.Length} bytes < {bits / 8}");
        return (int)cx.Kfd.SetQueueCuMask(q.KfdHandle, MemoryMarshal.Cast<byte, uint>(payload[..(int)(bits / 8)]));
    }

    private static int AllocGws(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdQueueReq>();
        if (req.nGWS > MaxGws) return Reject(cx, call, $"nGWS {req.nGWS} > {MaxGws}");
        var q = Queue(cx, req.res_id);
        if (q is null) return Reject(cx, call, $"res_id {req.res_id} is not a queue of this context");
        var st = cx.Kfd.AllocQueueGws(q.KfdHandle, req.nGWS, out uint first);
        // G-new reads `first` at @168, past its own reservation: written only if the slot has room.
        if (st == HsaStatus.Success && call.TryResponsePayload(CcmdQueueRsp.PayloadOffset, 4, out var p))
            MemoryMarshal.Write(p, in first);
        return (int)st;
    }
}
