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

    [Fact]
    public void G_init_memory_request_is_refused_not_misparsed()
    {
        var ctx = NewContext();
        var alloc = new CcmdMemoryReq { type = (uint)MemoryType.Alloc };
        var bytes = ctx.Guest.Encode(alloc, CcmdFamily.Memory, 24, len: 80);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, bytes);
        Assert.Equal(-22, ctx.Guest.SlotRet(off));
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
        Assert.Empty(Kfd.CallsNamed("AllocMemory"));
        Assert.True(ctx.State.GuestRevisionLogged);
    }
}
