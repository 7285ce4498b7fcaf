using System.Runtime.InteropServices;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Handlers;

/// <summary>GL_INTER and DEREG_MEM: only DMA_BUF objects of this context (PROTOCOL.md §4.6, §4.4 row 7).</summary>
public sealed class GlInterHandlerTests : ContextTestBase
{
    private DmaBufObject AttachDmaBuf(TestContext ctx, uint resId)
    {
        var memfd = Memfd.Create("dmabuf", 4096);
        var obj = new DmaBufObject(FileDescriptors.Duplicate(memfd), 4096);
        memfd.Dispose();
        lock (ctx.State.Sync) ctx.State.Objects.AddBound(resId, obj);
        return obj;
    }

    private static CcmdGlInterReq Reg(uint resId, ulong nodes) =>
        new() { type = 0, reg_ghd_to_nodes = new GlInterReqRegGhdToNodes { res_handle = resId, NumberOfNodes = nodes } };

    private static byte[] Nodes(params uint[] n) => MemoryMarshal.AsBytes(n.AsSpan()).ToArray();

    [Fact]
    public void Registers_a_dma_buf_and_bounds_metadata_to_the_reservation()
    {
        var ctx = NewContext();
        AttachDmaBuf(ctx, 50);
        var (ret, off) = Run(ctx, Reg(50, 1), CcmdFamily.GlInter, 40 + 0x50, Nodes(1, 0));
        Assert.Equal(0, ret);
        var rsp = ctx.Guest.Response<CcmdGlInterRsp>(off);
        Assert.Equal(0x50u, rsp.info.MetadataSizeInBytes); // host had 0x200: clamped to what the guest reserved
        Assert.Equal(0UL, rsp.info.Metadata);              // host pointer scrubbed
        Assert.Equal(40u + 0x50, ctx.Guest.SlotLen(off));
        Assert.Equal(0x6d, ctx.Guest.Slot(off, 120)[119]);
    }

    [Fact]
    public void Other_objects_counts_and_payload_are_refused()
    {
        var ctx = NewContext();
        AllocBound(ctx, 2, 10, 0x1000);
        AttachDmaBuf(ctx, 50);
        Assert.Equal((int)HsaStatus.InvalidHandle, Run(ctx, Reg(10, 1), CcmdFamily.GlInter, 120, Nodes(1, 0)).Ret);
        Assert.Equal((int)HsaStatus.InvalidHandle, Run(ctx, Reg(77, 1), CcmdFamily.GlInter, 120, Nodes(1, 0)).Ret);
        Assert.Equal(-22, Run(ctx, Reg(50, 3), CcmdFamily.GlInter, 120, Nodes(1, 0, 1, 0)).Ret);
        Assert.Equal(-22, Run(ctx, Reg(50, 1), CcmdFamily.GlInter, 120).Ret);
        Assert.Equal(-22, Run(ctx, Reg(50, 1), CcmdFamily.GlInter, 120, Nodes(9, 0)).Ret);
        Assert.Empty(Kfd.CallsNamed("RegisterGraphicsHandleToNodes"));
    }

    [Fact]
    public void Dma_buf_of_another_context_is_refused()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        AttachDmaBuf(a, 50);
        Assert.Equal((int)HsaStatus.InvalidHandle, Run(b, Reg(50, 1), CcmdFamily.GlInter, 120, Nodes(1, 0)).Ret);
    }

    [Fact]
    public void Dereg_releases_only_dma_bufs_and_closes_the_fd()
    {
        var ctx = NewContext();
        var d = AttachDmaBuf(ctx, 50);
        Assert.Equal(0, Run(ctx, new CcmdMemoryReq { type = (uint)MemoryType.DeregMem, res_id = 50 }, CcmdFamily.Memory, 320).Ret);
        Assert.True(d.Fd.IsClosed);
        Assert.Empty(ctx.State.Objects.OfType<DmaBufObject>());
    }

    [Fact]
    public void Destroy_closes_attached_dma_bufs()
    {
        var ctx = NewContext();
        var d = AttachDmaBuf(ctx, 50);
        Destroy(ctx);
        Assert.True(d.Fd.IsClosed);
    }
}
