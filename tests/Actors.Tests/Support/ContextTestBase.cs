using VhsaKmt.TestSupport.Memory;
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

    protected const uint HostAccess = 1u << 6, NonPaged = 1u << 0, NoAddress = 1u << 18, Scratch = 1u << 9;

    /// <summary>MEMORY ALLOC; returns (ret, memory_handle).</summary>
    protected (int Ret, ulong Va) TryAlloc(TestContext ctx, ulong blobId, ulong size, uint flags = HostAccess, uint node = 0, ulong alignment = 0)
    {
        var req = new CcmdMemoryReq { type = (uint)MemoryType.Alloc, blob_id = blobId };
        req.alloc_args = new MemoryReqAllocArgs { PreferredNode = node, MemFlags = new VhsaKmt.Native.Hsa.HsaMemFlags(flags), SizeInBytes = size, Alignment = alignment };
        var (ret, off) = Run(ctx, req, CcmdFamily.Memory, CcmdMemoryRsp.Size);
        return (ret, ret == 0 ? ctx.Guest.Response<CcmdMemoryRsp>(off).memory_handle : 0);
    }

    /// <summary>ALLOC + CREATE_BLOB (bound to <paramref name="resId"/>); returns the VA.</summary>
    protected ulong AllocBound(TestContext ctx, ulong blobId, uint resId, ulong size, uint flags = HostAccess, uint node = 0, bool mappable = false)
    {
        var (ret, va) = TryAlloc(ctx, blobId, size, flags, node);
        Assert.Equal(0, ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, resId, blobId, mappable ? 1u : 0u, size));
        return va;
    }

    /// <summary>EVENT CREATE + CREATE_BLOB; returns the opaque event handle.</summary>
    protected ulong EventBound(TestContext ctx, ulong blobId, uint resId)
    {
        var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = blobId };
        req.create_args.EventDesc.NodeId = 1;
        var (ret, off) = Run(ctx, req, CcmdFamily.Event, CcmdEventRsp.Size);
        Assert.Equal(0, ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, resId, blobId, 0, 4096));
        return ctx.Guest.Response<CcmdEventRsp>(off).vevent.event_handle;
    }

    /// <summary>QUEUE CREATE (AQL: ring at <paramref name="ring"/>, r/w pointers in <paramref name="rwVa"/>).</summary>
    protected (int Ret, CcmdQueueRsp Rsp) TryCreateQueue(TestContext ctx, ulong blobId, uint ringResId, ulong ring, ulong ringSize, uint rwResId, ulong rwVa,
        ulong doorbellBlob = 0, uint type = 21, ulong eventHandle = 0, ulong rwBlob = 0)
    {
        var req = new CcmdQueueReq { type = (uint)QueueType.Create, blob_id = blobId, queue_mem_res_id = ringResId, res_id = rwResId, doorbell_blob_id = doorbellBlob, rw_ptr_blob_id = rwBlob };
        req.create_queue_args = new QueueReqCreate
        {
            NodeId = 1, Type = type, QueuePercentage = 100, Priority = 0, SdmaEngineId = 0xFFFF_FFFF,
            QueueAddress = ring, QueueSizeInBytes = ringSize, Event = eventHandle,
            Queue_write_ptr_aql = rwVa + 0x38, Queue_read_ptr_aql = rwVa + 0x80,
        };
        var (ret, off) = Run(ctx, req, CcmdFamily.Queue, CcmdQueueRsp.Size);
        return (ret, ctx.Guest.Response<CcmdQueueRsp>(off));
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
