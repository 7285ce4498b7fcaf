using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Supervision;

namespace VhsaKmt.Actors.Context;

/// <summary>What became of a SUBMIT_3D offered to <see cref="ContextFastPath.TryRun"/>.</summary>
public enum InlineOutcome
{
    /// <summary>Not run (the context is busy, tearing down, has no shmem, or a ccmd needs the actor): send it to the actor.</summary>
    NotRun,
    /// <summary>Run; answer OK_NODATA (every ccmd's seqno is published, a handler fault included).</summary>
    Answered,
    /// <summary>The ccmd loop itself failed: answer ERR_UNSPEC, as the actor would.</summary>
    Failed,
}

/// <summary>
/// Runs one context's SUBMIT_3D on the caller's thread — the connection's IO thread that popped it — when nothing
/// else of the context is outstanding (DESIGN.md "hot path": every hop to a sleeping thread is a wake-up; the guest
/// waits for each one). Same code as the actor (<see cref="CcmdStream"/>), on the same <see cref="ContextState"/>,
/// under the same <see cref="ContextState.Sync"/>, which it only tries to take: a context whose actor is working is
/// never waited for, the submit goes to the actor instead. Ccmds that create or stop lifetime actors always go to
/// the actor. A handler fault is answered as on the actor path, then handed to the actor to rethrow, so its
/// supervisor restarts it exactly as before; until the restart is done the context's submits go to the actor.
/// </summary>
public sealed class ContextFastPath
{
    private readonly ContextState _state;
    private readonly HandlerContext _handlers;
    private readonly ILogger _log;
    private IActorRef? _actor;

    public ContextFastPath(ContextInfo info, ContextState state, ContextServices services)
    {
        _state = state;
        CtxId = info.CtxId;
        _log = services.Logger.ForContext("VmId", info.VmId).ForContext("CtxId", info.CtxId).ForContext("SourceContext", nameof(ContextFastPath));
        _handlers = new HandlerContext(state, services, new ObjectReleaser(state, services.Kfd, _log), ActorOnly.Instance, _log);
    }

    public uint CtxId { get; }

    /// <summary>Submits run here (diagnostics and tests).</summary>
    public long InlineSubmits => Interlocked.Read(ref _inlineSubmits);
    private long _inlineSubmits;

    /// <summary>The context's actor, once spawned: faults go there. Until then nothing runs inline.</summary>
    public void Bind(IActorRef actor) => Volatile.Write(ref _actor, actor);

    /// <summary>Runs <paramref name="payload"/> (already the private copy) if the context is free; see <see cref="InlineOutcome"/>.</summary>
    public InlineOutcome TryRun(ReadOnlySpan<byte> payload)
    {
        var actor = Volatile.Read(ref _actor);
        if (actor is null || !Monitor.TryEnter(_state.Sync)) return InlineOutcome.NotRun;
        Exception? fault;
        try
        {
            if (_state.Destroying || _state.TornDown || _state.Shmem is null || _state.AwaitingRestart) return InlineOutcome.NotRun;
            if (CcmdStream.NeedsActor(payload, _state.GuestRevision)) return InlineOutcome.NotRun;
            _state.Submits++;
            fault = CcmdStream.Process(_handlers, payload);
            // The next ccmds run on the restarted actor, as they would had this one faulted there.
            if (fault is not null) _state.AwaitingRestart = true;
        }
        catch (Exception e)
        {
            // A fault outside any handler (the loop itself): answered ERR_UNSPEC so the fence retires, then the actor crashes.
            _log.Error(e, "inline SUBMIT_3D failed outside its handlers");
            _state.AwaitingRestart = true;
            actor.Tell(new InlineFault(e));
            return InlineOutcome.Failed;
        }
        finally
        {
            Monitor.Exit(_state.Sync);
        }
        Interlocked.Increment(ref _inlineSubmits);
        if (fault is not null) actor.Tell(new InlineFault(fault));
        return InlineOutcome.Answered;
    }

    /// <summary>Inline runs never reach these: <see cref="CcmdStream.NeedsActor"/> routes their ccmds to the actor.</summary>
    private sealed class ActorOnly : IContextChildren
    {
        public static readonly ActorOnly Instance = new();
        public void SpawnQueue(QueueObject queue) => throw Refused(nameof(SpawnQueue));
        public void SpawnRegion(KfdObject region) => throw Refused(nameof(SpawnRegion));
        public void Retire(KfdObject obj) => throw Refused(nameof(Retire));
        private static ContextInvariantException Refused(string what) =>
            new($"{what} reached from an inline submit: its ccmd is missing from its family's ActorSubtypes");
    }
}
