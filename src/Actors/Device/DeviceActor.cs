using System.Buffers;
using System.Runtime.InteropServices;
using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Admin;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Metrics;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Actors.Device;

/// <summary>
/// One per vhost-user connection (one VM's virtio-gpu). Answers the control queue: capsets, contexts (spawned as
/// "ctx-&lt;id&gt;" children), the device-wide resource table, host-visible mappings (SHMEM_MAP), 2D/display
/// commands, and fences retired in order per (ctx, ring). Commands are handled in queue order; a command whose
/// result the next ones may depend on (CREATE_BLOB, MAP/UNMAP, the unmap of an UNREF) defers later commands until
/// it is answered — except other contexts' SUBMIT_3Ds behind a CREATE_BLOB (<see cref="MayPassBusy"/>) — and
/// everything else completes asynchronously through the timelines.
/// </summary>
public sealed class DeviceActor : UntypedActor
{
    /// <summary>Capset 8 as advertised in GET_CAPSET_INFO (PROTOCOL.md §2.1).</summary>
    public const uint CapsetMaxVersion = 1;
    private const ulong ProtocolFeatureShmem = 1UL << 22;
    private const ulong PageSize = 4096;

    private readonly DeviceSettings _settings;
    private readonly IContextSpawner _spawner;
    private readonly byte[] _capset;
    private readonly SupervisorStrategy _strategy;
    private readonly string _name;
    private ILogger _log;

    private IDeviceHost? _host;
    private readonly Dictionary<uint, LiveContext> _contexts = new();
    private readonly Dictionary<IActorRef, uint> _dying = new();
    private readonly Dictionary<uint, int> _generations = new();
    private readonly Dictionary<uint, DeviceResource> _resources = new();
    private readonly FenceTimelines _timelines = new();
    private readonly Dictionary<long, PendingSubmit> _submits = new();
    private readonly Dictionary<(uint Ctx, uint Res), Queue<PendingResourceOp>> _resourceOps = new();
    private readonly Queue<GpuCommand> _deferred = new();
    private readonly byte[] _scratch = new byte[VirtioGpuRespEdid.Size];
    private readonly ResponseSink _sink;
    private readonly ContextLanes _lanes;

    private Busy _busy;
    // The context whose command made the device busy; 0 when it concerns the whole device (SHMEM map/unmap).
    private uint _busyCtx;
    private PendingBlob? _blob;
    private long _nextSubmitId;
    private long _nextToken;
    private bool _stopping;
    private bool _dirty;
    private bool _warnedNoShmem;
    private ICancelable? _teardownTimer;
    // Operations (admin status, metrics): connection time, last error per context, metric tags per context actor.
    private readonly DateTime _connectedAt = DateTime.UtcNow;
    private readonly Dictionary<uint, string> _lastErrors = new();
    private readonly Dictionary<IActorRef, (ContextState? State, ContextTags Tags)> _metricTags = new();

    public DeviceActor(DeviceSettings settings, IContextSpawner spawner, CapsetHsakmt capset, ILogger? log = null, ContextLanes? lanes = null)
    {
        _lanes = lanes ?? new ContextLanes();
        _settings = settings;
        _spawner = spawner;
        _capset = new byte[CapsetHsakmt.Size];
        MemoryMarshal.Write(_capset, in capset);
        _strategy = spawner.CreateSupervisorStrategy();
        _name = Self.Path.Name;
        _log = (log ?? Log.Logger).ForContext<DeviceActor>().ForContext("VmId", _name);
        _sink = Emit;
    }

    /// <param name="lanes">Shared with this connection's <see cref="VirtioGpuDeviceModel"/>: the contexts it may run inline.</param>
    public static Props Props(DeviceSettings settings, IContextSpawner spawner, CapsetHsakmt capset, ILogger? log = null, ContextLanes? lanes = null) =>
        Akka.Actor.Props.Create(() => new DeviceActor(settings, spawner, capset, log, lanes));

    protected override SupervisorStrategy SupervisorStrategy() => _strategy;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case GpuCommand cmd: Process(cmd); break;
            case SubmitDone d: OnSubmitDone(d); break;
            case BlobCreated b: OnBlobCreated(b); break;
            case BlobRefused r: OnBlobRefused(r); break;
            case ResourceOpDone o: OnResourceOpDone(o); break;
            case MapResult m: OnMapResult(m); break;
            case UnmapResult u: OnUnmapResult(u); break;
            case BlobTimeout t: OnBlobTimeout(t); break;
            case Terminated t: OnTerminated(t.ActorRef); break;
            case DeviceAttached a: OnAttached(a.Host); break;
            case DeviceReset r: TearDown(r.Reason); break;
            case TeardownTimedOut: OnTeardownTimedOut(); break;
            case GetDeviceStatus: Sender.Tell(StatusSnapshot()); break;
            case KillContext k: Sender.Tell(KillByAdmin(k.CtxId)); break;
            default: Unhandled(message); break;
        }
        FlushIfDirty();
    }

    // ---------------------------------------------------------------- dispatch

    private void Process(GpuCommand cmd)
    {
        if (_stopping) { Drop(cmd); return; }
        if (_busy != Busy.None && !MayPassBusy(cmd)) { _deferred.Enqueue(cmd); return; }

        var op = new Op(cmd, cmd.Header.IsFenced ? _timelines.Enqueue(cmd.Header, cmd.Chain) : null);
        switch (cmd)
        {
            case Submit3DCommand s: Submit(op, s); break;
            case GetCapsetInfoCommand c: GetCapsetInfo(op, c); break;
            case GetCapsetCommand c: GetCapset(op, c); break;
            case CtxCreateCommand c: CtxCreate(op, c); break;
            case CtxDestroyCommand: CtxDestroy(op); break;
            case CtxAttachResourceCommand c: CtxAttach(op, c.ResourceId); break;
            case CtxDetachResourceCommand c: CtxDetach(op, c.ResourceId); break;
            case ResourceCreateBlobCommand c: CreateBlob(op, c); break;
            case ResourceMapBlobCommand c: MapBlob(op, c); break;
            case ResourceUnmapBlobCommand c: UnmapBlob(op, c); break;
            case ResourceUnrefCommand c: Unref(op, c.ResourceId); break;
            case GetDisplayInfoCommand: Reply(op, VirtioGpuResponseWriter.WriteEmptyDisplayInfo(_scratch, op.Cmd.Header)); break;
            case GetEdidCommand c: Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"GET_EDID scanout {c.Scanout}: headless device, no scanouts"); break;
            case ResourceCreate2DCommand c: Create2D(op, c); break;
            case ResourceAttachBackingCommand c: AttachBacking(op, c); break;
            case ResourceDetachBackingCommand c: WithResource(op, c.ResourceId, r => r.GuestBacking = []); break;
            case SetScanoutCommand c: SetScanout(op, c); break;
            case ResourceFlushCommand c: WithResource(op, c.ResourceId, null); break;
            case TransferToHost2DCommand c: WithResource(op, c.ResourceId, null); break;
            case MalformedCommand m: Fail(op, m.Error, m.Reason); break;
            default: Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"unsupported command 0x{cmd.Header.Type:x4}"); break;
        }
    }

    /// <summary>
    /// A SUBMIT_3D of another context need not wait for a context's CREATE_BLOB: nothing it does depends on it, and
    /// holding it would let one slow context stall every process of the VM. It still waits when anything of its own
    /// context, or anything device-wide (ctx 0: UNREF, display), is deferred before it, so per-context order holds.
    /// </summary>
    private bool MayPassBusy(GpuCommand cmd)
    {
        if (cmd is not Submit3DCommand s || _busyCtx == 0 || s.Header.CtxId == _busyCtx) return false;
        foreach (var d in _deferred)
            if (d.Header.CtxId == s.Header.CtxId || d.Header.CtxId == 0) return false;
        return true;
    }

    private void DrainDeferred()
    {
        while (_busy == Busy.None && !_stopping && _deferred.Count > 0)
            Process(_deferred.Dequeue());
    }

    // ---------------------------------------------------------------- capsets and contexts

    private void GetCapsetInfo(Op op, GetCapsetInfoCommand c)
    {
        if (c.CapsetIndex != 0) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"GET_CAPSET_INFO index {c.CapsetIndex}: one capset only"); return; }
        Reply(op, VirtioGpuResponseWriter.WriteCapsetInfo(_scratch, op.Cmd.Header, VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT, CapsetMaxVersion, CapsetHsakmt.Size));
    }

    private void GetCapset(Op op, GetCapsetCommand c)
    {
        if (c.CapsetId != VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT || c.CapsetVersion > CapsetMaxVersion)
        {
            Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"GET_CAPSET id {c.CapsetId} version {c.CapsetVersion}: only capset 8 version <= 1");
            return;
        }
        Reply(op, VirtioGpuResponseWriter.WriteCapset(_scratch, op.Cmd.Header, _capset));
    }

    private void CtxCreate(Op op, CtxCreateCommand c)
    {
        uint ctx = c.Header.CtxId;
        if (c.ContextInit != VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT)
        {
            Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"CTX_CREATE ctx {ctx}: context_init 0x{c.ContextInit:x} is not capset 8");
            return;
        }
        if (ctx == 0) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "CTX_CREATE with ctx_id 0"); return; }
        if (_contexts.ContainsKey(ctx)) { ReplyOk(op); return; } // same capset again: idempotent, as virglrenderer
        if (_contexts.Count >= _settings.MaxContextsPerVm)
        {
            Fail(op, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, $"CTX_CREATE ctx {ctx}: limit of {_settings.MaxContextsPerVm} contexts per VM reached");
            return;
        }
        if (_host is null) { Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, "CTX_CREATE before the device is attached"); return; }

        var info = new ContextInfo(_host.VmId, ctx, c.DebugName, _host.Memory);
        var spawned = _spawner.Prepare(info);
        int gen = _generations.TryGetValue(ctx, out var g) ? g + 1 : 0;
        _generations[ctx] = gen;
        // A destroyed context with the same id may still be tearing down: its name stays taken until it stops.
        var child = Context.ActorOf(spawned.Props, gen == 0 ? $"ctx-{ctx}" : $"ctx-{ctx}-{gen}");
        Context.Watch(child);
        _contexts[ctx] = new LiveContext(ctx, child, spawned.State, c.DebugName, spawned.FastPath);
        if (spawned.FastPath is { } fast)
        {
            fast.Bind(child);
            _lanes.Open(fast); // before the reply: the guest's first submit may already find it
        }
        TrackContextMetrics(child, spawned.State, ctx, c.DebugName);
        _log.Information("context {CtxId} created for {DebugName}", ctx, c.DebugName);
        ReplyOk(op);
    }

    private void CtxDestroy(Op op)
    {
        uint ctx = op.Cmd.Header.CtxId;
        if (!_contexts.Remove(ctx, out var live)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, $"CTX_DESTROY of unknown ctx {ctx}"); return; }
        CloseLane(live);
        live.Ref.Tell(new DestroyContext(ctx), Self);
        _dying[live.Ref] = ctx;
        _log.Information("context {CtxId} destroyed by the guest", ctx);
        ReplyOk(op);
    }

    private void CtxAttach(Op op, uint res)
    {
        uint ctx = op.Cmd.Header.CtxId;
        if (!_contexts.TryGetValue(ctx, out var live)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, $"CTX_ATTACH_RESOURCE res {res}: unknown ctx {ctx}"); return; }
        if (!_resources.ContainsKey(res)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"CTX_ATTACH_RESOURCE: unknown res {res}"); return; }
        ExpectResourceOp(ctx, res, new PendingResourceOp(live.Ref, op, null));
        live.Ref.Tell(new AttachResource(ctx, res), Self);
    }

    private void CtxDetach(Op op, uint res)
    {
        uint ctx = op.Cmd.Header.CtxId;
        if (!_contexts.TryGetValue(ctx, out var live)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, $"CTX_DETACH_RESOURCE res {res}: unknown ctx {ctx}"); return; }
        // Unknown ids are the context's to ignore (PROTOCOL.md §5.2).
        ExpectResourceOp(ctx, res, new PendingResourceOp(live.Ref, op, null));
        live.Ref.Tell(new DetachResource(ctx, res), Self);
    }

    private void Submit(Op op, Submit3DCommand s)
    {
        uint ctx = s.Header.CtxId;
        if (!_contexts.TryGetValue(ctx, out var live))
        {
            ArrayPool<byte>.Shared.Return(s.Payload);
            Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, $"SUBMIT_3D for unknown ctx {ctx}");
            return;
        }
        long id = ++_nextSubmitId;
        _submits[id] = new PendingSubmit(live.Ref, op, s.Payload);
        FenceRef? fence = s.Header.IsFenced ? new FenceRef(s.Header.FenceId, s.Header.RingIdx, s.Header.HasRingIdx) : null;
        live.Ref.Tell(new Submit3D(ctx, id, s.Payload, s.Length, fence), Self);
    }

    // ---------------------------------------------------------------- blobs

    private void CreateBlob(Op op, ResourceCreateBlobCommand c)
    {
        uint ctx = c.Header.CtxId, res = c.ResourceId;
        if (res == 0 || _resources.ContainsKey(res)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_CREATE_BLOB: res {res} is 0 or in use"); return; }
        if (c.BlobMem is < VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_GUEST or > VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST)
        { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"RESOURCE_CREATE_BLOB res {res}: blob_mem {c.BlobMem}"); return; }
        if ((c.BlobFlags & VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_SVM) != 0)
        { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"RESOURCE_CREATE_BLOB res {res}: SVM blobs (flag 0x20) are not implemented"); return; }
        bool guestBacked = c.BlobMem != VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D;
        if (guestBacked != (c.Entries.Length > 0))
        { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"RESOURCE_CREATE_BLOB res {res}: blob_mem {c.BlobMem} with {c.Entries.Length} mem entries"); return; }
        if (guestBacked)
        {
            ulong total = 0;
            foreach (var e in c.Entries) total += e.Length;
            if (total < c.Size) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"RESOURCE_CREATE_BLOB res {res}: entries cover {total} of {c.Size} bytes"); return; }
        }

        if (ctx == 0 && c.BlobMem == VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_GUEST)
        {
            // A context-less guest blob is plain guest memory: nothing on the host to create.
            _resources[res] = new DeviceResource(res, ResourceKind.Blob, 0, c.Size) { GuestBacking = c.Entries };
            ReplyOk(op);
            return;
        }
        if (!_contexts.TryGetValue(ctx, out var live)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, $"RESOURCE_CREATE_BLOB res {res}: unknown ctx {ctx}"); return; }

        var entries = new MemEntry[c.Entries.Length];
        for (int i = 0; i < entries.Length; i++) entries[i] = new MemEntry(c.Entries[i].Address, c.Entries[i].Length);
        long token = ++_nextToken;
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(_settings.ContextReplyTimeout, Self, new BlobTimeout(token), Self);
        _blob = new PendingBlob(live.Ref, op, c, token, timer);
        _busy = Busy.CreateBlob;
        _busyCtx = ctx;
        live.Ref.Tell(new CreateBlob(ctx, res, c.BlobMem, c.BlobFlags, c.BlobId, c.Size, entries), Self);
    }

    private void OnBlobCreated(BlobCreated b)
    {
        if (!TakeBlob(b.CtxId, b.ResId, out var pending))
        {
            _log.Warning("BlobCreated for ctx {CtxId} res {ResId} that is not pending (late after a timeout?)", b.CtxId, b.ResId);
            return;
        }
        var c = pending.Command;
        var resource = new DeviceResource(c.ResourceId, ResourceKind.Blob, c.Header.CtxId, c.Size) { MapInfo = b.MapInfo, GuestBacking = c.Entries };
        if (b.Backing is { } backing)
            resource.SetBacking(FileDescriptors.Duplicate(backing.Fd), backing.FdOffset, backing.Length);
        _resources[c.ResourceId] = resource;
        ReplyOk(pending.Op);
        EndBusy();
    }

    private void OnBlobRefused(BlobRefused r)
    {
        if (!TakeBlob(r.CtxId, r.ResId, out var pending))
        {
            _log.Warning("BlobRefused for ctx {CtxId} res {ResId} that is not pending", r.CtxId, r.ResId);
            return;
        }
        Fail(pending.Op, ErrorOrUnspec(r.VirtioError), $"RESOURCE_CREATE_BLOB res {r.ResId} refused by ctx {r.CtxId}: {r.Reason}");
        EndBusy();
    }

    private void OnBlobTimeout(BlobTimeout t)
    {
        if (_blob is not { } pending || pending.Token != t.Token) return;
        _blob = null;
        Fail(pending.Op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_CREATE_BLOB res {pending.Command.ResourceId}: ctx {pending.Command.Header.CtxId} did not answer within {_settings.ContextReplyTimeout}");
        EndBusy();
    }

    private bool TakeBlob(uint ctx, uint res, out PendingBlob pending)
    {
        pending = _blob!;
        if (_blob is null || _blob.Command.Header.CtxId != ctx || _blob.Command.ResourceId != res) return false;
        _blob.Timer.Cancel();
        _blob = null;
        return true;
    }

    private void MapBlob(Op op, ResourceMapBlobCommand c)
    {
        if (!_resources.TryGetValue(c.ResourceId, out var r)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_MAP_BLOB: unknown res {c.ResourceId}"); return; }
        if (r.BackingFd is null) { Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_MAP_BLOB res {c.ResourceId}: not a mappable blob"); return; }
        if (r.MappedOffset is not null) { Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_MAP_BLOB res {c.ResourceId}: already mapped at 0x{r.MappedOffset:x}"); return; }
        ulong length = Math.Min(r.BackingLength, RoundUpPage(r.Size));
        if (length == 0 || c.Offset % PageSize != 0 || c.Offset > _settings.HostVisibleSize || length > _settings.HostVisibleSize - c.Offset)
        {
            Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_MAP_BLOB res {c.ResourceId}: offset 0x{c.Offset:x} + 0x{length:x} outside the 0x{_settings.HostVisibleSize:x}-byte host-visible region");
            return;
        }
        if (!TryGetShmemChannel(out var channel)) { Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_MAP_BLOB res {c.ResourceId}: no shared-memory channel"); return; }

        _busy = Busy.Shmem;
        _busyCtx = 0;
        var cts = new CancellationTokenSource(_settings.ShmemRequestTimeout);
        channel.ShmemMapAsync(VirtioGpuConst.VIRTIO_GPU_SHM_ID_HOST_VISIBLE, r.BackingFd, r.BackingOffset, c.Offset, length, ShmemMapFlags.Read | ShmemMapFlags.Write, cts.Token)
            .ContinueWith(t =>
            {
                cts.Dispose();
                return new MapResult(op, c.ResourceId, c.Offset, length, t.IsCompletedSuccessfully ? t.Result : -1, t.Exception?.GetBaseException());
            }, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void OnMapResult(MapResult m)
    {
        if (m.Error is not null || m.Result != 0)
        {
            Fail(m.Op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_MAP_BLOB res {m.ResId}: SHMEM_MAP failed ({m.Error?.Message ?? "front-end answered " + m.Result})");
        }
        else
        {
            // Nothing else ran while the map was outstanding (busy), so the resource is still in the table.
            var r = _resources[m.ResId];
            r.SetMapped(m.Offset, m.Length);
            Reply(m.Op, VirtioGpuResponseWriter.WriteMapInfo(_scratch, m.Op.Cmd.Header, r.MapInfo));
        }
        EndBusy();
    }

    private void UnmapBlob(Op op, ResourceUnmapBlobCommand c)
    {
        if (!_resources.TryGetValue(c.ResourceId, out var r)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_UNMAP_BLOB: unknown res {c.ResourceId}"); return; }
        if (r.MappedOffset is not { } offset) { Fail(op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_UNMAP_BLOB res {c.ResourceId}: not mapped"); return; }
        StartUnmap(op, r, offset, forUnref: false);
    }

    private void StartUnmap(Op op, DeviceResource r, ulong offset, bool forUnref)
    {
        if (!TryGetShmemChannel(out var channel))
        {
            r.SetUnmapped();
            if (forUnref) FinishUnref(op, r); else ReplyOk(op);
            return;
        }
        _busy = Busy.Shmem;
        _busyCtx = 0;
        var cts = new CancellationTokenSource(_settings.ShmemRequestTimeout);
        channel.ShmemUnmapAsync(VirtioGpuConst.VIRTIO_GPU_SHM_ID_HOST_VISIBLE, offset, r.MappedLength, cts.Token)
            .ContinueWith(t =>
            {
                cts.Dispose();
                return new UnmapResult(op, r, t.IsCompletedSuccessfully ? t.Result : -1, t.Exception?.GetBaseException(), forUnref);
            }, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void OnUnmapResult(UnmapResult u)
    {
        if (u.Error is not null || u.Result != 0)
            _log.Warning("SHMEM_UNMAP of res {ResId} at 0x{Offset:x} failed: {Reason}", u.Resource.ResId, u.Resource.MappedOffset, u.Error?.Message ?? "front-end answered " + u.Result);
        u.Resource.SetUnmapped();
        if (u.ForUnref) FinishUnref(u.Op, u.Resource);
        else if (u.Error is not null || u.Result != 0) Fail(u.Op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_UNMAP_BLOB res {u.Resource.ResId}: SHMEM_UNMAP failed");
        else ReplyOk(u.Op);
        EndBusy();
    }

    private void Unref(Op op, uint res)
    {
        if (!_resources.Remove(res, out var r)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_UNREF: unknown res {res}"); return; }
        if (r.MappedOffset is { } offset) StartUnmap(op, r, offset, forUnref: true);
        else FinishUnref(op, r);
    }

    /// <summary>After the mapping is gone: every live context drops its binding (virglrenderer's detach fan-out, PROTOCOL.md §5.2).</summary>
    private void FinishUnref(Op op, DeviceResource r)
    {
        r.Dispose();
        if (_contexts.Count == 0) { ReplyOk(op); return; }
        var fanout = new UnrefFanout(op, _contexts.Count);
        foreach (var live in _contexts.Values)
        {
            ExpectResourceOp(live.CtxId, r.ResId, new PendingResourceOp(live.Ref, op, fanout));
            live.Ref.Tell(new ReleaseResource(live.CtxId, r.ResId), Self);
        }
    }

    private void OnResourceOpDone(ResourceOpDone d)
    {
        if (!_resourceOps.TryGetValue((d.CtxId, d.ResId), out var q) || q.Count == 0)
        {
            _log.Warning("ResourceOpDone for ctx {CtxId} res {ResId} that is not pending", d.CtxId, d.ResId);
            return;
        }
        var pending = q.Dequeue();
        if (q.Count == 0) _resourceOps.Remove((d.CtxId, d.ResId));
        CompleteResourceOp(pending, d.Status);
    }

    private void CompleteResourceOp(PendingResourceOp pending, uint status)
    {
        if (pending.Fanout is { } f)
        {
            // A context's failure to release is its own business (it logs it); the resource is gone either way.
            if (--f.Remaining == 0) ReplyOk(f.Op);
            return;
        }
        if (status == (uint)VIRTIO_GPU_RESP_OK_NODATA) ReplyOk(pending.Op);
        else Fail(pending.Op, ErrorOrUnspec(status), $"{pending.Op.Cmd.Header.Command} refused by ctx {pending.Op.Cmd.Header.CtxId}");
    }

    private void ExpectResourceOp(uint ctx, uint res, PendingResourceOp op)
    {
        if (!_resourceOps.TryGetValue((ctx, res), out var q)) _resourceOps[(ctx, res)] = q = new Queue<PendingResourceOp>();
        q.Enqueue(op);
    }

    private bool TryGetShmemChannel(out IBackendChannel channel)
    {
        channel = _host?.BackendChannel!;
        if (channel is not null && (_host!.AckedProtocolFeatures & ProtocolFeatureShmem) != 0) return true;
        if (!_warnedNoShmem)
        {
            _warnedNoShmem = true;
            _log.Warning("The front-end gave no backend channel with SHMEM (vhost-user protocol feature 22): mappable blobs cannot be mapped and ROCm's shmem page cannot exist. " +
                         "Use QEMU >= 11.1 with -device vhost-user-test-device-pci,virtio-id=16,num_vqs=2,config_size=16 (vhost-user-gpu-pci forwards no shared memory)");
        }
        return false;
    }

    // ---------------------------------------------------------------- 2D / display (answered, never stalled: VHOST-USER.md §4)

    private void Create2D(Op op, ResourceCreate2DCommand c)
    {
        if (c.ResourceId == 0 || _resources.ContainsKey(c.ResourceId)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_CREATE_2D: res {c.ResourceId} is 0 or in use"); return; }
        if (c.Width == 0 || c.Height == 0) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"RESOURCE_CREATE_2D res {c.ResourceId}: {c.Width}x{c.Height}"); return; }
        _resources[c.ResourceId] = new DeviceResource(c.ResourceId, ResourceKind.TwoD, 0, (ulong)c.Width * c.Height * 4);
        ReplyOk(op);
    }

    private void AttachBacking(Op op, ResourceAttachBackingCommand c)
    {
        if (!_resources.TryGetValue(c.ResourceId, out var r) || r.Kind != ResourceKind.TwoD)
        { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"RESOURCE_ATTACH_BACKING: res {c.ResourceId} is not a 2D resource"); return; }
        r.GuestBacking = c.Entries;
        ReplyOk(op);
    }

    private void SetScanout(Op op, SetScanoutCommand c)
    {
        if (c.ScanoutId >= VirtioGpuConst.VIRTIO_GPU_MAX_SCANOUTS) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, $"SET_SCANOUT: scanout {c.ScanoutId}"); return; }
        if (c.ResourceId != 0 && !_resources.ContainsKey(c.ResourceId)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"SET_SCANOUT: unknown res {c.ResourceId}"); return; }
        ReplyOk(op);
    }

    private void WithResource(Op op, uint res, Action<DeviceResource>? action)
    {
        if (!_resources.TryGetValue(res, out var r)) { Fail(op, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, $"{op.Cmd.Header.Command}: unknown res {res}"); return; }
        action?.Invoke(r);
        ReplyOk(op);
    }

    // ---------------------------------------------------------------- context replies and deaths

    private void OnSubmitDone(SubmitDone d)
    {
        if (!_submits.Remove(d.SubmitId, out var pending))
        {
            _log.Warning("SubmitDone {SubmitId} of ctx {CtxId} is not pending", d.SubmitId, d.CtxId);
            return;
        }
        ArrayPool<byte>.Shared.Return(pending.Payload);
        if (d.Status == (uint)VIRTIO_GPU_RESP_OK_NODATA) ReplyOk(pending.Op);
        else Fail(pending.Op, ErrorOrUnspec(d.Status), $"SUBMIT_3D of ctx {d.CtxId} answered 0x{d.Status:x}");
    }

    private void OnTerminated(IActorRef actor)
    {
        uint ctx;
        if (_dying.Remove(actor, out var dyingCtx)) { ctx = dyingCtx; UntrackContextMetrics(actor, crashed: false); }
        else
        {
            UntrackContextMetrics(actor, crashed: true);
            var live = _contexts.Values.FirstOrDefault(l => l.Ref.Equals(actor));
            if (live is null) return;
            ctx = live.CtxId;
            _contexts.Remove(ctx);
            CloseLane(live);
            _log.Error("context {CtxId} stopped unexpectedly; its pending commands fail", ctx);
        }
        FailPendingOf(actor, ctx);
        if (_stopping && _dying.Count == 0) StopNow();
    }

    /// <summary>Answer every command still waiting on a stopped context, so each fence is retired.</summary>
    private void FailPendingOf(IActorRef actor, uint ctx)
    {
        foreach (var (id, s) in _submits.Where(kv => kv.Value.Context.Equals(actor)).OrderBy(kv => kv.Key).ToList())
        {
            _submits.Remove(id);
            ArrayPool<byte>.Shared.Return(s.Payload);
            Fail(s.Op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"SUBMIT_3D: ctx {ctx} stopped before answering");
        }
        foreach (var key in _resourceOps.Keys.Where(k => k.Ctx == ctx).ToList())
        {
            var q = _resourceOps[key];
            var keep = new Queue<PendingResourceOp>();
            while (q.Count > 0)
            {
                var p = q.Dequeue();
                if (p.Context.Equals(actor)) CompleteResourceOp(p, (uint)VIRTIO_GPU_RESP_ERR_UNSPEC);
                else keep.Enqueue(p);
            }
            if (keep.Count == 0) _resourceOps.Remove(key); else _resourceOps[key] = keep;
        }
        if (_blob is { } b && b.Context.Equals(actor))
        {
            b.Timer.Cancel();
            _blob = null;
            Fail(b.Op, VIRTIO_GPU_RESP_ERR_UNSPEC, $"RESOURCE_CREATE_BLOB res {b.Command.ResourceId}: ctx {ctx} stopped before answering");
            EndBusy();
        }
    }

    // ---------------------------------------------------------------- attach, reset, teardown

    private void OnAttached(IDeviceHost host)
    {
        _host = host;
        _log = _log.ForContext("VmId", host.VmId);
        _log.Information("virtio-gpu device attached");
        VhsaKmtMetrics.RecordConnect(host.VmId);
    }

    /// <summary>
    /// Reset or disconnect: pending chains are dropped (their rings are gone), every context is told to tear down
    /// in order (DestroyContext, death-watched), host-visible mappings are dropped and the resource table cleared.
    /// After a disconnect the actor stops once every context has stopped.
    /// </summary>
    private void TearDown(DeviceResetReason reason)
    {
        _log.Information("device reset ({Reason}): {Contexts} contexts, {Resources} resources, {Pending} fences pending",
            reason, _contexts.Count, _resources.Count, _timelines.Pending);
        DropPending();
        _lanes.CloseAll();
        foreach (var live in _contexts.Values)
        {
            live.Ref.Tell(new DestroyContext(live.CtxId), Self);
            _dying[live.Ref] = live.CtxId;
        }
        _contexts.Clear();

        // Disconnect and protocol errors close the connection: nothing left to answer or unmap, the actor stops.
        bool final = reason is DeviceResetReason.Disconnect or DeviceResetReason.ProtocolError;
        bool channelUsable = !final && _host?.BackendChannel is not null
                             && (_host.AckedProtocolFeatures & ProtocolFeatureShmem) != 0;
        foreach (var r in _resources.Values)
        {
            if (channelUsable && r.MappedOffset is { } offset)
                _host!.BackendChannel!.ShmemUnmapAsync(VirtioGpuConst.VIRTIO_GPU_SHM_ID_HOST_VISIBLE, offset, r.MappedLength)
                    .ContinueWith(t => _log.Warning(t.Exception, "SHMEM_UNMAP at reset failed"), TaskContinuationOptions.OnlyOnFaulted);
            r.Dispose();
        }
        _resources.Clear();

        if (!final) return;
        VhsaKmtMetrics.RecordDisconnect(_host?.VmId ?? _name);
        if (reason == DeviceResetReason.ProtocolError) VhsaKmtMetrics.RecordProtocolError(_host?.VmId ?? _name, "vhost_user");
        _stopping = true;
        _host = null;
        if (_dying.Count == 0) StopNow();
        else _teardownTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(_settings.TeardownTimeout, Self, TeardownTimedOut.Instance, Self);
    }

    private void DropPending()
    {
        while (_deferred.Count > 0) Drop(_deferred.Dequeue());
        foreach (var s in _submits.Values) ArrayPool<byte>.Shared.Return(s.Payload);
        _submits.Clear();
        _resourceOps.Clear();
        _blob?.Timer.Cancel();
        _blob = null;
        _busy = Busy.None;
        _timelines.Clear();
    }

    private void OnTeardownTimedOut()
    {
        _log.Warning("{Count} contexts did not stop within {Timeout}; stopping them with the device", _dying.Count, _settings.TeardownTimeout);
        StopNow();
    }

    private void StopNow()
    {
        _teardownTimer?.Cancel();
        Context.Parent.Tell(new DeviceStopped(_host?.VmId ?? _name));
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        _teardownTimer?.Cancel();
        _lanes.CloseAll();
        DropPending();
        foreach (var r in _resources.Values) r.Dispose();
        _resources.Clear();
        base.PostStop();
    }

    private static void Drop(GpuCommand cmd)
    {
        if (cmd is Submit3DCommand s) ArrayPool<byte>.Shared.Return(s.Payload);
    }

    // ---------------------------------------------------------------- responses

    private void ReplyOk(Op op) => Reply(op, VirtioGpuResponseWriter.WriteNoData(_scratch, op.Cmd.Header, VIRTIO_GPU_RESP_OK_NODATA));

    private void Fail(Op op, VirtioGpuCtrlType error, string reason)
    {
        _log.Warning("{Cmd} ctx {CtxId}: {Error}: {Reason}", op.Cmd.Header.Command, op.Cmd.Header.CtxId, error, reason);
        if (_contexts.ContainsKey(op.Cmd.Header.CtxId)) _lastErrors[op.Cmd.Header.CtxId] = $"{op.Cmd.Header.Command}: {error}: {reason}";
        Reply(op, VirtioGpuResponseWriter.WriteNoData(_scratch, op.Cmd.Header, error));
    }

    private void Reply(Op op, int length)
    {
        RecordReplyMetrics(op);
        if (op.Ticket is { } t) _timelines.Complete(t, _scratch.AsSpan(0, length), _sink);
        else Emit(op.Cmd.Chain, _scratch.AsSpan(0, length));
    }

    private void Emit(DescriptorChain chain, ReadOnlySpan<byte> response)
    {
        var queue = _host?.Queue(0);
        if (queue is null) return; // reset or disconnected: the ring is gone
        int written = chain.Write(response);
        if (written < response.Length)
            _log.Debug("response of {Length} bytes truncated to the {Writable} writable bytes of chain {Head}", response.Length, chain.WritableLength, chain.Head);
        queue.Complete(chain, (uint)written);
        _dirty = true;
    }

    private void FlushIfDirty()
    {
        if (!_dirty) return;
        _dirty = false;
        _host?.Queue(0)?.Flush();
    }

    private void EndBusy()
    {
        _busy = Busy.None;
        DrainDeferred();
    }

    private static VirtioGpuCtrlType ErrorOrUnspec(uint status) =>
        status is >= (uint)VIRTIO_GPU_RESP_ERR_UNSPEC and <= (uint)VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER ? (VirtioGpuCtrlType)status : VIRTIO_GPU_RESP_ERR_UNSPEC;

    private static ulong RoundUpPage(ulong size) => size > ulong.MaxValue - (PageSize - 1) ? ulong.MaxValue & ~(PageSize - 1) : (size + PageSize - 1) & ~(PageSize - 1);

    // ---------------------------------------------------------------- operations (admin socket, metrics)

    private DeviceStatus StatusSnapshot() => new(_host?.VmId ?? _name, _name, _host?.AckedProtocolFeatures ?? 0, _connectedAt,
        _contexts.Values.OrderBy(l => l.CtxId)
            .Select(l => ContextStatusReader.Read(l.CtxId, l.DebugName, l.State, _lastErrors.GetValueOrDefault(l.CtxId))).ToList());

    /// <summary>Admin kill-context: the same ordered teardown as the guest's CTX_DESTROY; its later commands get INVALID_CONTEXT_ID.</summary>
    private KillContextResult KillByAdmin(uint ctx)
    {
        if (!_contexts.Remove(ctx, out var live)) return new KillContextResult(false, $"no context {ctx} on {_host?.VmId ?? _name}");
        CloseLane(live);
        live.Ref.Tell(new DestroyContext(ctx), Self);
        _dying[live.Ref] = ctx;
        _log.Warning("context {CtxId} ({DebugName}) killed by the operator", ctx, live.DebugName);
        return new KillContextResult(true, $"context {ctx} ({live.DebugName}) on {_host?.VmId ?? _name} is being torn down");
    }

    private void TrackContextMetrics(IActorRef child, object state, uint ctx, string debugName)
    {
        var tags = new ContextTags(_host?.VmId ?? _name, ctx, debugName);
        var cs = state as ContextState;
        _metricTags[child] = (cs, tags);
        if (cs is not null)
        {
            cs.MetricTags = tags;
            LiveContexts.Add(cs, tags);
        }
        VhsaKmtMetrics.RecordContextCreated(tags);
    }

    private void UntrackContextMetrics(IActorRef actor, bool crashed)
    {
        if (!_metricTags.Remove(actor, out var t)) return;
        if (t.State is not null) LiveContexts.Remove(t.State);
        _lastErrors.Remove(t.Tags.Ctx);
        if (crashed) VhsaKmtMetrics.RecordContextCrashed(t.Tags);
        else VhsaKmtMetrics.RecordContextDestroyed(t.Tags);
    }

    private void RecordReplyMetrics(Op op)
    {
        var vm = _host?.VmId ?? _name;
        uint type = MemoryMarshal.Read<uint>(_scratch);
        var result = type < (uint)VIRTIO_GPU_RESP_ERR_UNSPEC ? CommandResult.Ok
            : type is (uint)VIRTIO_GPU_RESP_ERR_UNSPEC or (uint)VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY ? CommandResult.HostError : CommandResult.GuestError;
        VhsaKmtMetrics.RecordGpuCommand(vm, CommandNames.Of(op.Cmd.Header.Command), result);
        if (op.Ticket is not null) VhsaKmtMetrics.RecordFenceRetired(vm);
    }

    // ---------------------------------------------------------------- private state records

    private enum Busy { None, CreateBlob, Shmem }

    private readonly record struct Op(GpuCommand Cmd, FenceTicket? Ticket);
    private sealed record LiveContext(uint CtxId, IActorRef Ref, object State, string DebugName, ContextFastPath? FastPath);

    private void CloseLane(LiveContext live)
    {
        if (live.FastPath is { } fast) _lanes.Close(fast);
    }
    private sealed record PendingSubmit(IActorRef Context, Op Op, byte[] Payload);
    private sealed record PendingBlob(IActorRef Context, Op Op, ResourceCreateBlobCommand Command, long Token, ICancelable Timer);
    private sealed record PendingResourceOp(IActorRef Context, Op Op, UnrefFanout? Fanout);
    private sealed class UnrefFanout(Op op, int remaining) { public Op Op { get; } = op; public int Remaining { get; set; } = remaining; }
    private sealed record MapResult(Op Op, uint ResId, ulong Offset, ulong Length, long Result, Exception? Error);
    private sealed record UnmapResult(Op Op, DeviceResource Resource, long Result, Exception? Error, bool ForUnref);
    private sealed record BlobTimeout(long Token);
    private sealed class TeardownTimedOut { public static readonly TeardownTimedOut Instance = new(); }
}
