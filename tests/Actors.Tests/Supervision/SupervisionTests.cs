using Akka.Actor;
using Akka.Configuration;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Supervision;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Supervision;

public sealed class SupervisionTests : ContextTestBase
{
    [Theory]
    [InlineData(typeof(ContextInvariantException), "Stop")]
    [InlineData(typeof(ActorInitializationException), "Stop")]
    [InlineData(typeof(ActorKilledException), "Stop")]
    [InlineData(typeof(OutOfMemoryException), "Escalate")]
    [InlineData(typeof(InvalidOperationException), "Restart")]
    [InlineData(typeof(NullReferenceException), "Restart")]
    public void Decision_table(Type exception, string directive)
    {
        var e = exception == typeof(ContextInvariantException) ? new ContextInvariantException("x")
            : exception == typeof(ActorInitializationException) ? new ActorInitializationException("x")
            : exception == typeof(ActorKilledException) ? new ActorKilledException("x")
            : (Exception)Activator.CreateInstance(exception)!;
        Assert.Equal(directive, ContextSupervision.Decide(e).ToString());
        Assert.Equal(directive, ContextSupervision.Decider.Decide(e).ToString());
        Assert.Equal(Directive.Restart, ContextSupervision.Decide(new CcmdHandlerException(2, 2, e)));
    }

    [Fact]
    public void Strategy_uses_the_configured_bounds()
    {
        var s = ContextSettings.FromConfig(ConfigurationFactory.ParseString("max-restarts = 5\nrestart-window = 10s\nmax-objects = 7\nvram-quota = 1M\nmax-queues = 2"));
        Assert.Equal(5, s.MaxRestarts);
        Assert.Equal(TimeSpan.FromSeconds(10), s.RestartWindow);
        Assert.Equal(7, s.MaxObjects);
        Assert.Equal(2, s.MaxQueues);
        Assert.Equal(1UL << 20, s.VramQuotaBytes);
        var strategy = Assert.IsType<OneForOneStrategy>(ContextSupervision.Strategy(s));
        Assert.Equal(5, strategy.MaxNumberOfRetries);
        Assert.Equal(10_000, strategy.WithinTimeRangeMilliseconds);
        Assert.Equal(ContextSettings.Default, ContextSettings.FromConfig(null));
        Assert.Throws<ConfigurationException>(() => ContextSettings.FromConfig(ConfigurationFactory.ParseString("max-objects = 0")));
    }

    private IActorRef Parent() => Sys.ActorOf(Props.Create(() => new SupervisingParent(Settings)).WithDispatcher(Akka.TestKit.CallingThreadDispatcher.Id));

    private TestContext Supervised(IActorRef parent, uint ctxId)
    {
        var state = ContextState.Create(new ContextInfo("vm-test", ctxId, "test", GuestMemory), Settings);
        var child = parent.Ask<IActorRef>(new SupervisingParent.Spawn($"ctx-{ctxId}", ContextProps(ctxId, state)), TimeSpan.FromSeconds(3)).Result;
        var ctx = new TestContext(ctxId, child, state, CreateTestProbe());
        CreateShmem(ctx);
        return ctx;
    }

    private static CcmdQueryInfoReq Query(QueryType t) => new() { type = (uint)t };

    [Fact]
    public void Handler_fault_answers_eio_restarts_and_keeps_objects_while_the_other_context_serves()
    {
        var parent = Parent();
        var a = Supervised(parent, 1);
        var b = Supervised(parent, 2);
        ulong va = AllocBound(a, 2, 10, 0x1000);
        var watcher = CreateTestProbe();
        watcher.Watch(a.Actor);

        Kfd.Throw["GetClockCounters"] = () => new InvalidOperationException("host bug");
        var bytes = a.Guest.Encode(new CcmdQueryInfoReq { type = (uint)QueryType.GetClockCounters, NodeID = 1 }, CcmdFamily.QueryInfo, 424);
        int off = a.Guest.LastRspOff;
        var done = Submit(a, bytes);
        Assert.Equal(0x1100u, done.Status);
        Assert.Equal(-5, a.Guest.SlotRet(off));
        Assert.Equal(a.Guest.LastSeqno, a.Guest.PublishedSeqno);
        Kfd.Throw.Clear();

        // restarted, not stopped: same state, same objects, serving again
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, a.State.HandlerFaults);
        Assert.Equal(0, Run(a, Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424).Ret);
        var map = new CcmdMemoryReq { type = (uint)MemoryType.MapMemToGpu };
        map.map_to_GPU_args = new MemoryMapMemToGpuArgs { MemoryAddress = va, MemorySizeInBytes = 0x1000 };
        Assert.Equal(0, Run(a, map, CcmdFamily.Memory, 320).Ret);
        Assert.Equal(1, Kfd.Counters.Allocations);
        Assert.Equal(0, Run(b, Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424).Ret);
    }

    [Fact]
    public void Broken_invariant_stops_with_ordered_release_and_async_error_other_context_untouched()
    {
        var parent = Parent();
        var a = Supervised(parent, 1);
        var b = Supervised(parent, 2);
        ulong ring = AllocBound(a, 2, 10, 0x10000);
        ulong rw = AllocBound(a, 3, 11, 0x1000);
        Assert.Equal(0, TryCreateQueue(a, 5, 10, ring, 0x10000, 11, rw).Ret);
        ulong bva = AllocBound(b, 2, 10, 0x1000);
        var watcher = CreateTestProbe();
        watcher.Watch(a.Actor);

        Kfd.Throw["GetClockCounters"] = () => new ContextInvariantException("tables disagree");
        var bytes = a.Guest.Encode(new CcmdQueryInfoReq { type = (uint)QueryType.GetClockCounters, NodeID = 1 }, CcmdFamily.QueryInfo, 424);
        Assert.Equal(0x1100u, Submit(a, bytes).Status);
        Assert.Equal(a.Guest.LastSeqno, a.Guest.PublishedSeqno);
        Kfd.Throw.Clear();
        watcher.ExpectTerminated(a.Actor, TimeSpan.FromSeconds(3));

        int destroy = Kfd.Calls.FindIndex(c => c.StartsWith("DestroyQueue"));
        Assert.True(destroy >= 0 && destroy < Kfd.IndexOf($"FreeMemory(0x{ring:x})"));
        Assert.True(a.Guest.AsyncError > 0);
        Assert.True(a.State.TornDown);
        Assert.Equal(1, Kfd.Counters.Allocations); // only b's
        Assert.Equal(0, Kfd.Counters.Queues);
        Assert.Equal(0, Run(b, Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424).Ret);
        Assert.Contains(b.State.Objects.OfType<MemoryObject>(), m => m.Address == bva);
    }

    [Fact]
    public void Exhausted_restarts_stop_the_context()
    {
        Settings = ContextSettings.Default with { MaxRestarts = 1 };
        var parent = Parent();
        var a = Supervised(parent, 1);
        AllocBound(a, 2, 10, 0x1000);
        var watcher = CreateTestProbe();
        watcher.Watch(a.Actor);
        Kfd.Throw["GetClockCounters"] = () => new InvalidOperationException("again");
        for (int i = 0; i < 2; i++)
        {
            var bytes = a.Guest.Encode(new CcmdQueryInfoReq { type = (uint)QueryType.GetClockCounters, NodeID = 1 }, CcmdFamily.QueryInfo, 424);
            Assert.Equal(0x1100u, Submit(a, bytes).Status);
        }
        watcher.ExpectTerminated(a.Actor, TimeSpan.FromSeconds(3));
        Assert.True(Kfd.Counters.Snapshot().IsZero);
        Assert.Equal(8, Va.FreeSliceCount);
    }
}
