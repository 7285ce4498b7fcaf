using Xunit;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Native;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Tests.Support;

/// <summary>One guest context under test: its actor, state, and the guest's view of its shmem.</summary>
public sealed class TestContext(uint ctxId, IActorRef actor, ContextState state, TestProbe device)
{
    public uint CtxId { get; } = ctxId;
    public IActorRef Actor { get; } = actor;
    public ContextState State { get; } = state;
    public TestProbe Device { get; } = device;
    public GuestCcmd Guest { get; internal set; } = null!;
    public uint ShmemResId { get; internal set; }
    private long _submit;
    public long NextSubmitId() => ++_submit;
}

/// <summary>
/// Actor tests on the CallingThreadDispatcher: every Tell is processed before it returns, so tests need no sleeps.
/// Each test class gets its own VA area (distinct base) and, by default, a <see cref="RecordingKfd"/>.
/// </summary>
public abstract class ContextTestBase : TestKit, IDisposable
{
    private static long s_nextBase;
    protected const ulong SliceSize = 1UL << 30;
    private readonly List<IDisposable> _disposables = new();

    protected ContextTestBase() : base("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
    {
        Va = new VaManager(new VaOptions
        {
            Base = 0x3000_0000_0000UL + (ulong)Interlocked.Increment(ref s_nextBase) * (64UL << 30),
            SliceCount = 8,
            SliceSize = SliceSize,
            GpuNodeCount = 1,
            ScratchSizePerNode = 256UL << 20,
            DoorbellWindowSize = 1UL << 20,
        });
        Kfd = new RecordingKfd();
        GuestMemory = new MemfdGuestMemory();
        Settings = ContextSettings.Default;
    }

    protected VaManager Va { get; }
    protected RecordingKfd Kfd { get; }
    protected MemfdGuestMemory GuestMemory { get; }
    protected ContextSettings Settings { get; set; }

    protected ContextServices Services(IKfd? kfd = null) =>
        new(kfd ?? Kfd, Va, Settings, new FixedClock(), Tenancy: Tenancy);

    /// <summary>A private tenancy per test class: other test classes' contexts never count.</summary>
    protected KfdTenancy Tenancy { get; } = new();

    protected Props ContextProps(uint ctxId, ContextState state, IKfd? kfd = null) =>
        ContextActor.Props(new ContextInfo("vm-test", ctxId, "test", GuestMemory), state, Services(kfd))
            .WithDispatcher(CallingThreadDispatcher.Id);

    /// <summary>A context actor (top level, no supervisor of ours) with its shmem created.</summary>
    protected TestContext NewContext(uint ctxId = 1, IKfd? kfd = null, ulong shmemSize = 80 * 4096, bool withShmem = true)
    {
        var state = ContextState.Create(new ContextInfo("vm-test", ctxId, "test", GuestMemory), Settings);
        var actor = Sys.ActorOf(ContextProps(ctxId, state, kfd), $"ctx-{ctxId}-{Guid.NewGuid():N}");
        var ctx = new TestContext(ctxId, actor, state, CreateTestProbe());
        if (withShmem) CreateShmem(ctx, shmemSize);
        return ctx;
    }

    protected void CreateShmem(TestContext ctx, ulong size = 80 * 4096, uint resId = 1000)
    {
        var reply = CreateBlob(ctx, resId, 0, 1, size);
        var created = Assert.IsType<BlobCreated>(reply);
        Assert.Equal(1u, created.MapInfo);
        Assert.NotNull(created.Backing);
        var view = Mmap.MapShared(created.Backing!.Fd, created.Backing.FdOffset, created.Backing.Length);
        _disposables.Add(view);
        ctx.Guest = new GuestCcmd(view);
        ctx.ShmemResId = resId;
    }

    protected object CreateBlob(TestContext ctx, uint resId, ulong blobId, uint flags, ulong size, uint blobMem = 2, IReadOnlyList<MemEntry>? entries = null)
    {
        ctx.Actor.Tell(new CreateBlob(ctx.CtxId, resId, blobMem, flags, blobId, size, entries ?? []), ctx.Device.Ref);
        return ctx.Device.ReceiveOne(TimeSpan.FromSeconds(3))!;
    }

    protected SubmitDone Submit(TestContext ctx, params byte[][] ccmds)
    {
        var payload = ccmds.SelectMany(c => c).ToArray();
        ctx.Actor.Tell(new Submit3D(ctx.CtxId, ctx.NextSubmitId(), payload, payload.Length, null), ctx.Device.Ref);
        return ctx.Device.ExpectMsg<SubmitDone>(TimeSpan.FromSeconds(3));
    }

    protected ResourceOpDone Detach(TestContext ctx, uint resId)
    {
        ctx.Actor.Tell(new DetachResource(ctx.CtxId, resId), ctx.Device.Ref);
        return ctx.Device.ExpectMsg<ResourceOpDone>(TimeSpan.FromSeconds(3));
    }

    /// <summary>Sends DestroyContext and waits until the actor has stopped.</summary>
    protected void Destroy(TestContext ctx)
    {
        var watcher = CreateTestProbe();
        watcher.Watch(ctx.Actor);
        ctx.Actor.Tell(new DestroyContext(ctx.CtxId));
        watcher.ExpectTerminated(ctx.Actor, TimeSpan.FromSeconds(3));
    }

    /// <summary>Runs one ccmd and returns (ret, rspOff).</summary>
    protected (int Ret, int RspOff) Run<T>(TestContext ctx, T req, CcmdFamily cmd, int rspSize, ReadOnlySpan<byte> payload = default) where T : unmanaged
    {
        var bytes = ctx.Guest.Encode(req, cmd, rspSize, payload);
        int off = ctx.Guest.LastRspOff;
        var done = Submit(ctx, bytes);
        Assert.Equal(0x1100u, done.Status);
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
        return (ctx.Guest.SlotRet(off), off);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        foreach (var d in _disposables) d.Dispose();
        Kfd.Dispose();
        GuestMemory.Dispose();
        Va.Dispose();
    }
}

public sealed class FixedClock : IClock
{
    public ulong MonotonicNanoseconds { get; set; } = 123_456_789;
}
