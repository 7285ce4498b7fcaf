using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Serilog.Core;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Context;

/// <summary>The ccmd loop without the actor: steady-state allocation and revision detection.</summary>
public sealed class CcmdStreamTests : ContextTestBase
{
    private sealed class NoChildren : IContextChildren
    {
        public void SpawnQueue(QueueObject queue) { }
        public void SpawnRegion(KfdObject region) { }
        public void Retire(KfdObject obj) { }
    }

    private HandlerContext NewHandlerContext(VhsaKmt.Native.IKfd kfd)
    {
        var state = ContextState.Create(new ContextInfo("vm", 1, "t", GuestMemory), Settings);
        var cx = new HandlerContext(state, Services(kfd), new ObjectReleaser(state, kfd, Logger.None), new NoChildren(), Logger.None);
        Assert.IsType<BlobCreated>(BlobResolver.Resolve(cx, new CreateBlob(1, 1, 2, 1, 0, 80 * 4096, []), Logger.None));
        return cx;
    }

    private static byte[] Ccmd(uint cmd, int len, uint seqno, uint rspOff = 0)
    {
        var b = new byte[len];
        MemoryMarshal.Write(b, new CcmdReqHeader { cmd = cmd, len = (uint)len, seqno = seqno, rsp_off = rspOff });
        return b;
    }

    [Fact]
    public void Nop_and_query_loops_do_not_allocate_in_steady_state()
    {
        using var sim = new SimulatedKfd(va: Va);
        var cx = NewHandlerContext(sim);
        var nop = Ccmd(1, 16, 1);
        var query = Ccmd(2, CcmdQueryInfoReq.Size, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(query.AsSpan(48), (uint)QueryType.GetVer);
        BinaryPrimitives.WriteUInt32LittleEndian(cx.State.Shmem!.Area, 424); // pre-written slot len
        Assert.Null(CcmdStream.Process(cx, nop));
        Assert.Null(CcmdStream.Process(cx, query));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (uint i = 0; i < 2000; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(nop.AsSpan(8), 3 + 2 * i);
            CcmdStream.Process(cx, nop);
            BinaryPrimitives.WriteUInt32LittleEndian(query.AsSpan(8), 4 + 2 * i);
            CcmdStream.Process(cx, query);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2 * 1999u + 4, cx.State.Shmem.Seqno);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 4000 ccmds");
        cx.Releaser.ReleaseAll();
        cx.State.Shmem.Dispose();
    }

    private static byte[] GInitMemory(uint type, ulong blobId = 0, uint resId = 0, Action<byte[]>? args = null, byte[]? payload = null)
    {
        var b = new byte[80 + (payload?.Length ?? 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(64), blobId);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(72), type);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(76), resId);
        args?.Invoke(b);
        payload?.CopyTo(b, 80);
        return b;
    }

    private (int Ret, int Off) RunRaw(TestContext ctx, byte[] body, uint cmd, int rspSize)
    {
        int off = ctx.Guest.TakeSlot(rspSize);
        var bytes = ctx.Guest.Encode(new CcmdNopReq(), (CcmdFamily)cmd, 0, rspOff: off, len: body.Length, structSize: 16);
        body.AsSpan(16).CopyTo(bytes.AsSpan(16));
        Assert.Equal(0x1100u, Submit(ctx, bytes).Status);
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
        return (ctx.Guest.SlotRet(off), off);
    }

    [Fact]
    public void G_init_memory_requests_are_translated_and_answered_in_24_bytes()
    {
        var ctx = NewContext();
        var alloc = GInitMemory((uint)MemoryType.Alloc, blobId: 2, args: b =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 0);          // PreferredNode
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), HostAccess); // MemFlags
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 0x2000);     // SizeInBytes
        });
        var (ret, off) = RunRaw(ctx, alloc, 4, 24);
        Assert.Equal(0, ret);
        Assert.Equal(24u, ctx.Guest.SlotLen(off));
        ulong va = BinaryPrimitives.ReadUInt64LittleEndian(ctx.Guest.Slot(off, 24)[8..]);
        Assert.True(ctx.State.Slice!.Contains(va, 0x2000));
        Assert.Equal(GuestRevision.GInit, ctx.State.GuestRevision);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 10, 2, 0, 0x2000));

        // MAP_TO_GPU_NODES with its node array at payload @80
        var map = GInitMemory((uint)MemoryType.MapToGpuNodes, args: b =>
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), va);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 0x2000);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), 1);
        }, payload: [1, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(0, RunRaw(ctx, map, 4, 24).Ret);
        Assert.Contains($"MapMemoryToGpuNodes(0x{va:x})", Kfd.Calls);

        // subtypes G-init does not have, and REG_MEM_WITH_FLAG whose G-init semantics differ, are refused
        Assert.Equal(-22, RunRaw(ctx, GInitMemory((uint)MemoryType.ExportDmabuf, resId: 10), 4, 24).Ret);
        Assert.Equal(-22, RunRaw(ctx, GInitMemory((uint)MemoryType.RegMemWithFlag, resId: 10), 4, 24).Ret);
    }

    [Fact]
    public void G_new_context_keeps_its_layout()
    {
        var ctx = NewContext();
        Assert.Equal(0, TryAlloc(ctx, 2, 0x1000).Ret);
        Assert.Equal(GuestRevision.GNew, ctx.State.GuestRevision);
    }
}
