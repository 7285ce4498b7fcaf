using VhsaKmt.TestSupport.Memory;
using System.Buffers.Binary;
using Akka.Actor;
using Akka.Configuration;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Native.Va;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>
/// The ccmd stream decoder and every handler's request decoding, through a real ContextActor on the simulated KFD.
/// Each input is a SUBMIT_3D payload, run twice as virglrenderer's native-context fuzzer does: first on a context
/// without shmem (must answer ERR_UNSPEC and do nothing), then on a context whose shmem exists and which holds a
/// 64 KiB allocation (res 10), an event (res 11) and its VA slice, so mutated ids and addresses can hit live objects.
/// Invariants: every submit is answered within 5 s; no handler throws on guest input; the context still publishes
/// the seqno of a following NOP; after both contexts are destroyed every KFD object, VA backing, slice and mapping is
/// released and the fd count is back where it was.
/// </summary>
public sealed class CcmdStreamTarget : IFuzzTarget
{
    public const uint ShmemResId = 1, MemResId = 10, EventResId = 11;
    public const ulong ShmemSize = 16 * 4096;
    private const uint OkNoData = 0x1100, ErrUnspec = 0x1200;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly ActorSystem _system;
    private readonly VaManager _va;
    private readonly SimulatedKfd _kfd;
    private readonly MemfdGuestMemory _ram = new();
    private readonly KfdTenancy _tenancy = new();
    private readonly long _mappingsBaseline;
    private readonly int _backingsBaseline;
    private uint _nextCtx;

    public CcmdStreamTarget(ulong vaBase = 0x2000_0000_0000)
    {
        _system = ActorSystem.Create("fuzz-ccmd", ConfigurationFactory.ParseString("akka.loglevel = OFF\nakka.stdout-loglevel = OFF"));
        _va = new VaManager(new VaOptions
        {
            Base = vaBase, SliceCount = 4, SliceSize = 1UL << 30, GpuNodeCount = 1,
            ScratchSizePerNode = 256UL << 20, DoorbellWindowSize = 1UL << 20,
        }, Serilog.Core.Logger.None);
        _kfd = new SimulatedKfd(va: _va, log: Serilog.Core.Logger.None);
        (MemVa, EventHandle) = ProbeSetup();
        // The KFD's event page is process-wide (created with the first event, kept until the KFD closes), as on
        // the real KFD: the baseline is taken after the probe context created and destroyed its event.
        _mappingsBaseline = ResourceCounters.LiveMappings;
        _backingsBaseline = _va.LiveBackingCount;
    }

    public string Name => "ccmd-stream";
    public int MaxInputLength => 4096;

    /// <summary>The VA of the setup allocation (same for every execution: the slice is the same).</summary>
    public ulong MemVa { get; }
    public ulong EventHandle { get; }

    /// <summary>Handler faults seen so far (each is also a finding).</summary>
    public int HandlerFaults { get; private set; }

    public IEnumerable<byte[]> Seeds()
    {
        uint seq = 100;
        uint off = 0;
        uint NextOff() { uint o = off; off = (off + 2048) % (uint)(ShmemSize - 2048 - 16); return o; }
        yield return CcmdEncoding.Nop(seq++);
        for (uint t = 0; t <= (uint)QueryType.SpmSetDstBuffer; t++)
        {
            yield return CcmdEncoding.Raw(CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, 48, t, seq++, NextOff(), (56, 1, 4));
            yield return CcmdEncoding.Raw(CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, 48, t, seq++, NextOff(), (56, MemVa, 8));
        }
        for (uint t = 0; t <= (uint)EventType.SetTrap; t++)
            yield return CcmdEncoding.Raw(CcmdFamily.Event, CcmdEventReq.Size, 80, t, seq++, NextOff(), (16, EventHandle, 8), (96, EventResId, 4), (88, 7, 8));
        for (uint t = 0; t <= (uint)MemoryType.AmdgpuBoSetMetadata; t++)
        {
            yield return CcmdEncoding.Raw(CcmdFamily.Memory, CcmdMemoryReq.Size, 304, t, seq++, NextOff(), (16, MemVa, 8), (24, 4096, 8), (308, MemResId, 4), (296, 8, 8));
            yield return CcmdEncoding.Raw(CcmdFamily.Memory, CcmdMemoryReq.Size, 304, t, seq++, NextOff(), (16, 1, 4), (20, 1u << 6, 4), (24, 8192, 8), (296, 9, 8));
        }
        for (uint t = 0; t <= (uint)QueueType.AllocGws; t++)
            yield return CcmdEncoding.Raw(CcmdFamily.Queue, CcmdQueueReq.Size, 124, t, seq++, NextOff(),
                (16, 1, 4), (20, 21, 4), (24, 100, 4), (40, MemVa, 8), (48, 4096, 8), (120, MemResId, 4), (128, MemResId, 4), (96, 12, 8));
        yield return CcmdEncoding.Raw(CcmdFamily.GlInter, CcmdGlInterReq.Size, 40, 0, seq++, NextOff());
        // A realistic burst: alloc, map, free of a second buffer in one payload.
        var alloc = new CcmdMemoryReq { type = (uint)MemoryType.Alloc, blob_id = 20 };
        alloc.alloc_args = new MemoryReqAllocArgs { PreferredNode = 1, MemFlags = new HsaMemFlags(1u << 6), SizeInBytes = 4096 };
        var free = new CcmdMemoryReq { type = (uint)MemoryType.Free };
        free.free_args = new MemoryReqFreeArgs { MemoryAddress = MemVa, SizeInBytes = 64 << 10 };
        free.res_id = MemResId;
        yield return [.. CcmdEncoding.Encode(alloc, CcmdFamily.Memory, seq++, 0), .. CcmdEncoding.Encode(free, CcmdFamily.Memory, seq++, 2048), .. CcmdEncoding.Nop(seq++)];
        // Framing edge cases: short len, len past the end, unaligned rsp_off, trailing bytes.
        yield return CcmdEncoding.Raw(CcmdFamily.QueryInfo, 24, -1, 0, seq++, 0);
        yield return [.. CcmdEncoding.Nop(seq++), 1, 2, 3];
        yield return CcmdEncoding.Raw(CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, 48, 2, seq++, 3);
    }

    public void Execute(ReadOnlySpan<byte> input)
    {
        var fdsBefore = FdTable.Snapshot();
        var payload = input.ToArray();
        var bare = Spawn(withShmem: false, out _);
        var live = Spawn(withShmem: true, out var shm);
        try
        {
            var done = Submit(bare, payload);
            if (done.Status != ErrUnspec) throw new FuzzFinding($"submit without shmem answered 0x{done.Status:x}, expected ERR_UNSPEC");
            CheckFaults(bare);

            SetUp(live, shm!);
            done = Submit(live, payload);
            if (done.Status != OkNoData) throw new FuzzFinding($"submit with shmem answered 0x{done.Status:x}");
            CheckFaults(live);

            const uint probe = 0x5EED_0001;
            Submit(live, CcmdEncoding.Nop(probe));
            uint published = BinaryPrimitives.ReadUInt32LittleEndian(shm!.AsSpan(0, 4));
            if (published != probe) throw new FuzzFinding($"context stopped publishing: seqno {published:x} after a NOP {probe:x}");
        }
        finally
        {
            shm?.Dispose();
            Destroy(bare);
            Destroy(live);
        }
        var kfd = _kfd.Counters.Snapshot();
        if (!kfd.IsZero) throw new FuzzFinding($"KFD objects left after context teardown: {kfd}");
        if (_va.LiveBackingCount != _backingsBaseline) throw new FuzzFinding($"{_va.LiveBackingCount - _backingsBaseline} VA backings left after context teardown");
        if (_va.FreeSliceCount != _va.Options.SliceCount) throw new FuzzFinding("a VA slice was not returned at context teardown");
        if (ResourceCounters.LiveMappings != _mappingsBaseline) throw new FuzzFinding($"{ResourceCounters.LiveMappings - _mappingsBaseline} host mappings left after context teardown");
        var leaked = FdTable.Snapshot().Except(fdsBefore).ToList();
        if (leaked.Count > 0) throw new FuzzFinding($"fd leak after context teardown: {leaked.Count} fds ({string.Join(", ", leaked.Take(6))})");
    }

    private sealed record Ctx(uint Id, IActorRef Actor, ContextState State);

    private Ctx Spawn(bool withShmem, out MappedRegion? shmem)
    {
        uint id = ++_nextCtx;
        var info = new ContextInfo("vm-fuzz", id, "fuzz", _ram);
        var state = ContextState.Create(info);
        var services = new ContextServices(_kfd, _va, ContextSettings.Default, new SystemClock(), Serilog.Core.Logger.None, _tenancy);
        var actor = _system.ActorOf(ContextActor.Props(info, state, services), $"ctx-{id}");
        var ctx = new Ctx(id, actor, state);
        shmem = null;
        if (!withShmem) return ctx;
        var created = Ask(ctx, new CreateBlob(id, ShmemResId, 2, 1, 0, ShmemSize, [])) as BlobCreated
            ?? throw new InvalidOperationException("shmem blob refused");
        shmem = Mmap.MapShared(created.Backing!.Fd, created.Backing.FdOffset, created.Backing.Length);
        return ctx;
    }

    /// <summary>OPEN_KFD, a 64 KiB allocation bound to res 10, an event bound to res 11; then the guest's slot lengths.</summary>
    private (ulong Va, ulong Event) SetUp(Ctx ctx, MappedRegion shm)
    {
        PrefillSlots(shm);
        var open = CcmdEncoding.Raw(CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, 48, (uint)QueryType.OpenKfd, 1, 0);
        var alloc = new CcmdMemoryReq { type = (uint)MemoryType.Alloc, blob_id = 1 };
        alloc.alloc_args = new MemoryReqAllocArgs { PreferredNode = 1, MemFlags = new HsaMemFlags(1u << 6), SizeInBytes = 64 << 10 };
        var ev = new CcmdEventReq { type = (uint)EventType.Create, blob_id = 2 };
        ev.create_args.EventDesc.NodeId = 1;
        Submit(ctx, [.. open, .. CcmdEncoding.Encode(alloc, CcmdFamily.Memory, 2, 2048), .. CcmdEncoding.Encode(ev, CcmdFamily.Event, 3, 4096)]);
        ulong va = BinaryPrimitives.ReadUInt64LittleEndian(shm.AsSpan(16 + 2048 + 8, 8));
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(shm.AsSpan(16 + 4096 + 8 + HsaEvent.Size, 8));
        if (Ask(ctx, new CreateBlob(ctx.Id, MemResId, 2, 0, 1, 64 << 10, [])) is not BlobCreated) throw new InvalidOperationException("allocation blob refused");
        if (Ask(ctx, new CreateBlob(ctx.Id, EventResId, 2, 0, 2, 4096, [])) is not BlobCreated) throw new InvalidOperationException("event blob refused");
        PrefillSlots(shm);
        return (va, handle);
    }

    private (ulong, ulong) ProbeSetup()
    {
        var ctx = Spawn(withShmem: true, out var shm);
        try
        {
            return SetUp(ctx, shm!);
        }
        finally
        {
            shm!.Dispose();
            Destroy(ctx);
        }
    }

    private static void PrefillSlots(MappedRegion shm)
    {
        var area = shm.AsSpan(16, (int)ShmemSize - 16);
        area.Clear();
        for (int off = 0; off + 8 <= area.Length; off += 8)
            BinaryPrimitives.WriteUInt32LittleEndian(area[off..], CcmdEncoding.SlotLength(off));
    }

    private void CheckFaults(Ctx ctx)
    {
        if (ctx.State.HandlerFaults == 0) return;
        HandlerFaults += ctx.State.HandlerFaults;
        throw new FuzzFinding($"a handler threw on guest input ({ctx.State.HandlerFaults} faults)");
    }

    private SubmitDone Submit(Ctx ctx, byte[] payload) =>
        Ask(ctx, new Submit3D(ctx.Id, 1, payload, payload.Length, null)) as SubmitDone
            ?? throw new FuzzFinding("submit answered with something other than SubmitDone");

    private static object Ask(Ctx ctx, object message)
    {
        try
        {
            return ctx.Actor.Ask<object>(message, Timeout).GetAwaiter().GetResult();
        }
        catch (AskTimeoutException)
        {
            throw new FuzzFinding($"context did not answer {message.GetType().Name} within {Timeout.TotalSeconds} s");
        }
    }

    private static void Destroy(Ctx ctx)
    {
        try
        {
            ctx.Actor.GracefulStop(Timeout, new DestroyContext(ctx.Id)).GetAwaiter().GetResult();
        }
        catch (TaskCanceledException)
        {
            throw new FuzzFinding("context did not finish its teardown within 5 s");
        }
    }

    public void Dispose()
    {
        _system.Terminate().Wait(Timeout);
        _kfd.Dispose();
        _va.Dispose();
        _ram.Dispose();
    }
}
