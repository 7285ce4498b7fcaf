using Akka.Actor;
using Akka.TestKit;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Supervision;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Native.Faults;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Context;

/// <summary>
/// A context's SUBMIT_3D run on the caller's thread: the same ccmd loop and state as its actor, only when the context
/// is free, never for ccmds that create or stop lifetime actors, and faults handed to the actor.
/// </summary>
public sealed class ContextFastPathTests : ContextTestBase
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    private (TestContext Ctx, ContextFastPath Fast, TestProbe Actor) Setup(IKfd? kfd = null, bool withShmem = true)
    {
        var ctx = NewContext(1, kfd, withShmem: withShmem);
        var fast = new ContextFastPath(ctx.State.Info, ctx.State, Services(kfd));
        var actor = CreateTestProbe();
        fast.Bind(actor.Ref);
        return (ctx, fast, actor);
    }

    private static byte[] Join(params byte[][] ccmds) => ccmds.SelectMany(c => c).ToArray();

    private static byte[] Nop(TestContext ctx) => ctx.Guest.Encode(new CcmdNopReq(), CcmdFamily.Nop, 0);

    private static byte[] GetVer(TestContext ctx) =>
        ctx.Guest.Encode(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer }, CcmdFamily.QueryInfo, CcmdQueryInfoRsp.Size);

    [Fact]
    public void Free_context_runs_the_submit_inline_and_publishes_every_seqno()
    {
        using var sim = new SimulatedKfd(va: Va);
        var (ctx, fast, actor) = Setup(sim);
        var payload = Join(Nop(ctx), GetVer(ctx));
        int slot = ctx.Guest.LastRspOff;

        Assert.Equal(InlineOutcome.Answered, fast.TryRun(payload));
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
        Assert.Equal(0, ctx.Guest.SlotRet(slot));
        Assert.Equal(1, ctx.State.Submits);
        Assert.Equal(2, ctx.State.Ccmds);
        Assert.Equal(1, fast.InlineSubmits);
        actor.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Unbound_fast_path_and_a_context_without_shmem_leave_the_submit_to_the_actor()
    {
        var ctx = NewContext(1);
        var unbound = new ContextFastPath(ctx.State.Info, ctx.State, Services());
        var nop = Nop(ctx);
        Assert.Equal(InlineOutcome.NotRun, unbound.TryRun(nop));

        var (bare, fast, _) = Setup(withShmem: false);
        Assert.Equal(InlineOutcome.NotRun, fast.TryRun(new byte[16]));
        Assert.Equal(0, bare.State.Submits);
        Assert.Equal(0u, ctx.Guest.PublishedSeqno);
    }

    [Fact]
    public void Context_being_destroyed_leaves_the_submit_to_the_actor()
    {
        var (ctx, fast, _) = Setup();
        var nop = Nop(ctx);
        Destroy(ctx);
        Assert.True(ctx.State.TornDown);
        Assert.Equal(InlineOutcome.NotRun, fast.TryRun(nop));
        Assert.Equal(0, ctx.State.Submits);
    }

    [Fact]
    public void Context_whose_state_is_held_by_another_thread_is_not_waited_for()
    {
        var (ctx, fast, _) = Setup();
        var nop = Nop(ctx);
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (ctx.State.Sync)
            {
                held.Set();
                release.Wait();
            }
        });
        holder.Start();
        Assert.True(held.Wait(Wait));
        Assert.Equal(InlineOutcome.NotRun, fast.TryRun(nop));
        release.Set();
        holder.Join();
        Assert.Equal(0u, ctx.Guest.PublishedSeqno);
        Assert.Equal(InlineOutcome.Answered, fast.TryRun(nop));
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
    }

    [Theory]
    [InlineData(CcmdFamily.Memory, (uint)MemoryType.Alloc)]
    [InlineData(CcmdFamily.Memory, (uint)MemoryType.RegisterSharedHandle)]
    [InlineData(CcmdFamily.Queue, (uint)QueueType.Create)]
    [InlineData(CcmdFamily.Queue, (uint)QueueType.Destroy)]
    [InlineData(CcmdFamily.Queue, (uint)QueueType.Update)]
    public void Payload_with_a_ccmd_that_spawns_or_stops_an_actor_runs_nothing_inline(CcmdFamily family, uint subtype)
    {
        var (ctx, fast, _) = Setup();
        var first = GetVer(ctx); // would run inline on its own
        byte[] second = family == CcmdFamily.Memory
            ? ctx.Guest.Encode(new CcmdMemoryReq { type = subtype }, family, CcmdMemoryRsp.Size)
            : ctx.Guest.Encode(new CcmdQueueReq { type = subtype }, family, CcmdQueueRsp.Size);
        Assert.Equal(InlineOutcome.NotRun, fast.TryRun(Join(first, second)));
        Assert.Equal(0u, ctx.Guest.PublishedSeqno); // not even the first ccmd ran
        Assert.Equal(0, ctx.State.Ccmds);
    }

    [Theory]
    [InlineData(CcmdFamily.Memory, (uint)MemoryType.MapToGpuNodes)]
    [InlineData(CcmdFamily.Memory, (uint)MemoryType.UnmapToGpu)]
    [InlineData(CcmdFamily.Memory, (uint)MemoryType.AvailMem)]
    [InlineData(CcmdFamily.Queue, (uint)QueueType.GetInfo)]
    [InlineData(CcmdFamily.Event, (uint)EventType.Set)]
    [InlineData(CcmdFamily.Event, (uint)EventType.Create)]
    [InlineData(CcmdFamily.QueryInfo, (uint)QueryType.GetNodeProp)]
    public void Other_ccmds_may_run_inline(CcmdFamily family, uint subtype)
    {
        var ctx = NewContext(1);
        byte[] ccmd = family switch
        {
            CcmdFamily.Memory => ctx.Guest.Encode(new CcmdMemoryReq { type = subtype }, family, CcmdMemoryRsp.Size),
            CcmdFamily.Queue => ctx.Guest.Encode(new CcmdQueueReq { type = subtype }, family, CcmdQueueRsp.Size),
            CcmdFamily.Event => ctx.Guest.Encode(new CcmdEventReq { type = subtype }, family, CcmdEventRsp.Size),
            _ => ctx.Guest.Encode(new CcmdQueryInfoReq { type = subtype }, family, CcmdQueryInfoRsp.Size),
        };
        Assert.False(CcmdStream.NeedsActor(ccmd, GuestRevision.GNew));
        Assert.False(CcmdStream.NeedsActor(ccmd, GuestRevision.Unknown));
    }

    [Fact]
    public void Memory_ccmds_of_a_G_init_guest_or_shorter_than_G_new_go_to_the_actor()
    {
        var ctx = NewContext(1);
        var map = ctx.Guest.Encode(new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes }, CcmdFamily.Memory, CcmdMemoryRsp.Size);
        Assert.True(CcmdStream.NeedsActor(map, GuestRevision.GInit));
        var shortMap = ctx.Guest.Encode(new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes }, CcmdFamily.Memory, CcmdMemoryRsp.Size, len: 200);
        Assert.True(CcmdStream.NeedsActor(shortMap, GuestRevision.GNew));
        // Framing ends the scan where the loop would stop: an alloc behind a broken length never runs.
        var broken = ctx.Guest.Encode(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer }, CcmdFamily.QueryInfo, 0, len: 8);
        var alloc = ctx.Guest.Encode(new CcmdMemoryReq { type = (uint)MemoryType.Alloc }, CcmdFamily.Memory, CcmdMemoryRsp.Size);
        Assert.False(CcmdStream.NeedsActor(Join(broken, alloc), GuestRevision.GNew));
    }

    [Fact]
    public void Handler_fault_is_answered_then_handed_to_the_actor_and_later_submits_wait_for_its_restart()
    {
        using var sim = new SimulatedKfd(va: Va);
        var faulty = new FaultInjectingKfd(sim);
        var (ctx, fast, actor) = Setup(faulty);
        faulty.Plan.Fail(nameof(IKfd.GetVersion), KfdFault.Throw);
        var payload = GetVer(ctx);
        int slot = ctx.Guest.LastRspOff;

        Assert.Equal(InlineOutcome.Answered, fast.TryRun(payload));
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
        Assert.Equal(-5, ctx.Guest.SlotRet(slot)); // -EIO, as on the actor
        var fault = actor.ExpectMsg<InlineFault>(Wait);
        Assert.IsType<CcmdHandlerException>(fault.Fault);
        Assert.True(ctx.State.AwaitingRestart);
        Assert.Equal(InlineOutcome.NotRun, fast.TryRun(Nop(ctx)));
    }

    [Fact]
    public async Task Inline_fault_restarts_the_real_actor_which_reopens_the_fast_path()
    {
        using var sim = new SimulatedKfd(va: Va);
        var faulty = new FaultInjectingKfd(sim);
        var state = ContextState.Create(new ContextInfo("vm-test", 1, "test", GuestMemory), Settings);
        var parent = Sys.ActorOf(Props.Create(() => new SupervisingParent(Settings)));
        var child = await parent.Ask<IActorRef>(new SupervisingParent.Spawn("ctx-1", ContextProps(1, state, faulty)), Wait);
        var ctx = new TestContext(1, child, state, CreateTestProbe());
        CreateShmem(ctx);
        var fast = new ContextFastPath(state.Info, state, Services(faulty));
        fast.Bind(child);

        faulty.Plan.Fail(nameof(IKfd.GetVersion), KfdFault.Throw);
        Assert.Equal(InlineOutcome.Answered, fast.TryRun(GetVer(ctx)));
        AwaitCondition(() => { lock (state.Sync) return !state.AwaitingRestart; }, Wait);
        Assert.Equal(InlineOutcome.Answered, fast.TryRun(GetVer(ctx)));
        Assert.Equal(0, ctx.Guest.SlotRet(ctx.Guest.LastRspOff));
        Assert.Equal(1, state.HandlerFaults);
    }

    [Fact]
    public void Inline_nop_allocates_nothing_in_steady_state()
    {
        var (ctx, fast, _) = Setup();
        var nop = Nop(ctx);
        for (int i = 0; i < 10; i++) fast.TryRun(nop);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5000; i++) fast.TryRun(nop);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(5010, fast.InlineSubmits);
    }
}
