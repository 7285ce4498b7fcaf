using System.Runtime.ExceptionServices;
using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Queues;
using VhsaKmt.Actors.Regions;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// One guest context (capset 8): runs its ccmd stream in guest order, resolves its blobs, releases its objects in
/// teardown order. Everything it owns lives in <see cref="ContextState"/>, held by the parent, so a supervisor
/// restart rebuilds the actor around the same KFD objects (children and death-watches survive the restart).
/// <para>Replies: Submit3D → SubmitDone; CreateBlob → BlobCreated / BlobRefused; Attach/Detach/ReleaseResource →
/// ResourceOpDone; DestroyContext → ordered teardown (queues → events → GPU unmaps → frees → userptrs → dma-bufs →
/// VA slice → shmem), driven by death-watch of the queue and region actors, then the actor stops.</para>
/// </summary>
public sealed class ContextActor : UntypedActor, IContextChildren
{
    private enum Phase { Running, Queues, Memory, Userptrs, Done }

    private readonly ContextInfo _info;
    private readonly ContextState _state;
    private readonly ContextServices _services;
    private readonly ILogger _log;
    private readonly ObjectReleaser _releaser;
    private readonly HandlerContext _handlers;
    private Phase _phase = Phase.Running;

    public ContextActor(ContextInfo info, ContextState state, ContextServices services)
    {
        _info = info;
        _state = state;
        _services = services;
        _log = services.Logger.ForContext("VmId", info.VmId).ForContext("CtxId", info.CtxId).ForContext("SourceContext", nameof(ContextActor));
        _releaser = new ObjectReleaser(state, services.Kfd, _log);
        _handlers = new HandlerContext(state, services, _releaser, this, _log);
    }

    public static Props Props(ContextInfo info, ContextState state, ContextServices services) =>
        Akka.Actor.Props.Create(() => new ContextActor(info, state, services));

    private uint CtxId => _info.CtxId;

    protected override void PreStart()
    {
        lock (_state.Sync)
        {
            if (!_state.JoinedTenancy)
            {
                _services.Tenants.Join(_state.Key);
                _state.JoinedTenancy = true;
                _log.Information("context {DebugName} started on KFD {Kfd}", _info.DebugName, _services.Kfd.Name);
            }
        }
    }

    /// <summary>A restart keeps the children (queue/region actors) and the state; only this instance is replaced.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _log.Warning(reason, "context restarting around its {Objects} objects after a fault", _state.Objects.Count);
        if (_state.MetricTags is { } tags) Metrics.VhsaKmtMetrics.RecordSupervisorRestart(tags);
    }

    protected override void PostRestart(Exception reason)
    {
        lock (_state.Sync) _state.AwaitingRestart = false;
        PreStart();
        if (_state.Destroying) BeginTeardown();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Submit3D s: OnSubmit(s); break;
            case CreateBlob c: OnCreateBlob(c); break;
            case AttachResource a: Sender.Tell(new ResourceOpDone(CtxId, a.ResId, BlobResolver.OkNoData)); break;
            case DetachResource d: OnDetach(d.ResId); Sender.Tell(new ResourceOpDone(CtxId, d.ResId, BlobResolver.OkNoData)); break;
            case ReleaseResource r: OnDetach(r.ResId); Sender.Tell(new ResourceOpDone(CtxId, r.ResId, BlobResolver.OkNoData)); break;
            case DestroyContext: BeginTeardown(); break;
            case InlineFault f: ExceptionDispatchInfo.Capture(f.Fault).Throw(); break;
            case Terminated t: OnTerminated(t.ActorRef); break;
            default: Unhandled(message); break;
        }
    }

    private void OnSubmit(Submit3D s)
    {
        Exception? fault;
        lock (_state.Sync)
        {
            if (_state.Destroying || _state.TornDown || _state.Shmem is null)
            {
                if (_state.Shmem is null && !_state.Destroying)
                    _log.Information("SUBMIT_3D before the shmem exists: ERR_UNSPEC");
                Sender.Tell(new SubmitDone(CtxId, s.SubmitId, BlobResolver.ErrUnspec));
                return;
            }
            _state.Submits++;
            try
            {
                fault = CcmdStream.Process(_handlers, s.Payload.AsSpan(0, Math.Clamp(s.Length, 0, s.Payload.Length)));
            }
            catch (Exception)
            {
                // A fault outside any handler (the loop itself): still answer, so the fence retires; then crash.
                Sender.Tell(new SubmitDone(CtxId, s.SubmitId, BlobResolver.ErrUnspec));
                throw;
            }
        }
        Sender.Tell(new SubmitDone(CtxId, s.SubmitId, BlobResolver.OkNoData));
        // The ccmd that faulted is answered and its seqno published; now let the supervisor decide.
        if (fault is not null) ExceptionDispatchInfo.Capture(fault).Throw();
    }

    private void OnCreateBlob(CreateBlob c)
    {
        object reply;
        lock (_state.Sync)
        {
            try
            {
                reply = _state.Destroying || _state.TornDown
                    ? new BlobRefused(CtxId, c.ResId, BlobResolver.ErrUnspec, "context is being destroyed")
                    : BlobResolver.Resolve(_handlers, c, _log);
            }
            catch (Exception ex)
            {
                Sender.Tell(new BlobRefused(CtxId, c.ResId, BlobResolver.ErrUnspec, $"host fault: {ex.Message}"));
                throw;
            }
        }
        Sender.Tell(reply);
    }

    /// <summary>CTX_DETACH_RESOURCE / RESOURCE_UNREF fan-out: unknown ids are ignored (PROTOCOL.md §5.2).</summary>
    private void OnDetach(uint resId)
    {
        lock (_state.Sync)
        {
            var obj = _state.Objects.Unbind(resId);
            if (obj is null) return;
            _log.Debug("res_id {ResId} dropped by the guest: {Object}", resId, obj.ToString());
            Retire(obj);
        }
    }

    public void SpawnQueue(QueueObject queue)
    {
        var props = QueueActor.Props(queue, _state, _releaser).WithDispatcher(Context.Props.Dispatcher);
        var child = Context.ActorOf(props, $"queue-{queue.Id:x}");
        queue.Actor = child;
        _state.Lifetimes[child] = queue;
        Context.Watch(child);
    }

    public void SpawnRegion(KfdObject region)
    {
        var props = VaRegionActor.Props(region, _state, _releaser).WithDispatcher(Context.Props.Dispatcher);
        var child = Context.ActorOf(props, $"va-{region.Address:x}-{region.Id:x}");
        switch (region)
        {
            case MemoryObject m: m.Actor = child; break;
            case UserptrObject u: u.Actor = child; break;
            default: throw new Supervision.ContextInvariantException($"{region} is not a region");
        }
        _state.Lifetimes[child] = region;
        Context.Watch(child);
    }

    /// <summary>Releases an object the guest dropped, through its lifetime actor when it has one. Under Sync.</summary>
    public void Retire(KfdObject obj)
    {
        switch (obj)
        {
            case QueueObject { Actor: { } a }:
                Context.Stop(a);
                break;
            case QueueObject q:
                ReleaseUnlinked(_releaser.DestroyQueue(q));
                break;
            case MemoryObject m when m.IsQueueMem:
                // Busy: out of the res_id table already; freed when its last queue is gone (§5.3).
                _log.Debug("{Object} dropped while a queue uses it; deferred", m.ToString());
                break;
            case MemoryObject { Actor: { } a }:
                Context.Stop(a);
                break;
            case UserptrObject { Actor: { } a }:
                Context.Stop(a);
                break;
            case ShmemObject:
                break; // the shmem lives until the context is destroyed
            default:
                _releaser.Release(obj);
                break;
        }
    }

    private void ReleaseUnlinked(IReadOnlyList<MemoryObject> unlinked)
    {
        foreach (var m in unlinked)
            if (!m.Released && !m.IsQueueMem && m.GuestRemoved && !_state.Destroying) // teardown frees memory in its own step
                Retire(m);
    }

    private void OnTerminated(IActorRef child)
    {
        lock (_state.Sync)
        {
            if (_state.Lifetimes.Remove(child, out var obj) && obj is QueueObject q)
            {
                // PostStop destroyed the queue; a memory region the guest already dropped can go now.
                var unlinked = q.Destroyed ? [q.Ring!, q.RwMemory!] : _releaser.DestroyQueue(q);
                ReleaseUnlinked(unlinked.Where(m => m is not null).Distinct().ToArray());
            }
            if (_state.Destroying) AdvanceTeardown();
        }
    }

    private void BeginTeardown()
    {
        lock (_state.Sync)
        {
            if (_phase != Phase.Running && !_state.Destroying) return;
            if (!_state.Destroying) _log.Information("context destroy: ordered teardown of {Objects} objects", _state.Objects.Count);
            _state.Destroying = true;
            _phase = Phase.Queues;
            AdvanceTeardown();
        }
    }

    private bool Waiting<T>() where T : KfdObject => _state.Lifetimes.Values.Any(o => o is T);

    /// <summary>Each step waits (death-watch) until the actors of the previous kind have terminated. Under Sync.</summary>
    private void AdvanceTeardown()
    {
        if (_phase == Phase.Queues)
        {
            foreach (var q in _state.Objects.OfType<QueueObject>().ToArray()) Retire(q);
            if (Waiting<QueueObject>()) return;
            foreach (var e in _state.Objects.OfType<EventObject>().ToArray()) _releaser.ReleaseEvent(e);
            foreach (var s in _state.Objects.OfType<ScratchMapObject>().ToArray()) _releaser.ReleaseScratchMap(s);
            _phase = Phase.Memory;
        }
        if (_phase == Phase.Memory)
        {
            foreach (var m in _state.Objects.OfType<MemoryObject>().ToArray())
            {
                m.GuestRemoved = true;
                if (m.Actor is not null && _state.Lifetimes.ContainsKey(m.Actor)) Context.Stop(m.Actor);
                else _releaser.ReleaseMemory(m);
            }
            if (Waiting<MemoryObject>()) return;
            _phase = Phase.Userptrs;
        }
        if (_phase == Phase.Userptrs)
        {
            foreach (var u in _state.Objects.OfType<UserptrObject>().ToArray())
            {
                if (u.Actor is not null && _state.Lifetimes.ContainsKey(u.Actor)) Context.Stop(u.Actor);
                else _releaser.ReleaseUserptr(u);
            }
            if (Waiting<UserptrObject>()) return;
            _phase = Phase.Done;
        }
        if (_phase == Phase.Done)
        {
            FinishRelease(clean: true);
            Context.Stop(Self);
        }
    }

    /// <summary>Dma-bufs and pages, then the VA slice, then the shmem; leaves the KFD tenancy. Idempotent. Under Sync.</summary>
    private void FinishRelease(bool clean)
    {
        if (_state.TornDown) return;
        _releaser.ReleaseAll();
        _state.Slice?.Dispose();
        _state.Slice = null;
        if (!clean) _state.Shmem?.RecordFault(); // async_error: the guest may look, it never hangs
        _state.Shmem?.Dispose();
        _state.Shmem = null;
        if (_state.JoinedTenancy)
        {
            if (_services.Tenants.Leave(_state.Key)) _services.Kfd.RuntimeDisable();
            _state.JoinedTenancy = false;
        }
        _state.TornDown = true;
        _log.Information("context released (clean: {Clean})", clean);
    }

    /// <summary>
    /// Any stop that was not an ordered DestroyContext (supervisor Stop, parent stopping): the children are already
    /// gone — queues destroyed, unlinked regions freed — so release the rest in order and flag async_error.
    /// </summary>
    protected override void PostStop()
    {
        lock (_state.Sync) FinishRelease(clean: _state.Destroying);
    }
}
