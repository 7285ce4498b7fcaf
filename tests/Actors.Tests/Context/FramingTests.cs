using Xunit;
using System.Buffers.Binary;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Tests.Context;

/// <summary>Native-context framing: PROTOCOL.md §3.3, §3.4, §3.6, §7.3.</summary>
public sealed class FramingTests : ContextTestBase
{
    private static CcmdQueryInfoReq Query(QueryType t, ulong arg = 0) => new() { type = (uint)t, pointer = arg };

    [Fact]
    public void Shmem_has_response_offset_16_and_nop_publishes_seqno_only()
    {
        var ctx = NewContext();
        Assert.Equal(16u, ctx.Guest.RspMemOffsetField);
        var nop = ctx.Guest.Encode(new CcmdNopReq(), CcmdFamily.Nop, 0);
        var done = Submit(ctx, nop);
        Assert.Equal(0x1100u, done.Status);
        Assert.Equal(1u, ctx.Guest.PublishedSeqno);
        Assert.Equal(0u, ctx.Guest.AsyncError);
    }

    [Fact]
    public void Submit_before_shmem_is_err_unspec()
    {
        var ctx = NewContext(withShmem: false);
        ctx.Actor.Tell(new Submit3D(ctx.CtxId, 9, new byte[16], 16, null), ctx.Device.Ref);
        var done = ctx.Device.ExpectMsg<SubmitDone>();
        Assert.Equal(0x1200u, done.Status);
        Assert.Equal(9, done.SubmitId);
    }

    [Fact]
    public void Query_get_version_copies_response_and_len()
    {
        var ctx = NewContext();
        var (ret, off) = Run(ctx, Query(QueryType.GetVer), CcmdFamily.QueryInfo, CcmdQueryInfoRsp.Size);
        Assert.Equal(0, ret);
        var rsp = ctx.Guest.Response<CcmdQueryInfoRsp>(off);
        Assert.Equal(424u, rsp.hdr.len);
        Assert.Equal(1u, rsp.kfd_version.KernelInterfaceMajorVersion);
        Assert.Equal(14u, rsp.kfd_version.KernelInterfaceMinorVersion);
    }

    [Fact]
    public void Unknown_family_answers_einval_and_publishes()
    {
        var ctx = NewContext();
        var bytes = ctx.Guest.Encode(new CcmdNopReq(), (CcmdFamily)9, 64);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, bytes);
        Assert.Equal(-22, ctx.Guest.SlotRet(off));
        Assert.Equal(64u, ctx.Guest.SlotLen(off));
        Assert.True(ctx.Guest.Slot(off, 64)[8..].ToArray().All(b => b == 0), "error answer zero-fills the slot");
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
    }

    [Theory]
    [InlineData(CcmdFamily.QueryInfo, 99)]
    [InlineData(CcmdFamily.Event, 7)]
    [InlineData(CcmdFamily.Memory, 21)]
    [InlineData(CcmdFamily.Queue, 6)]
    [InlineData(CcmdFamily.GlInter, 1)]
    public void Unknown_subtype_answers_einval(CcmdFamily family, uint subtype)
    {
        var ctx = NewContext();
        byte[] bytes = family switch
        {
            CcmdFamily.QueryInfo => ctx.Guest.Encode(new CcmdQueryInfoReq { type = subtype }, family, 424),
            CcmdFamily.Event => ctx.Guest.Encode(new CcmdEventReq { type = subtype }, family, 80),
            CcmdFamily.Memory => ctx.Guest.Encode(new CcmdMemoryReq { type = subtype }, family, 320),
            CcmdFamily.Queue => ctx.Guest.Encode(new CcmdQueueReq { type = subtype }, family, 168),
            _ => ctx.Guest.Encode(new CcmdGlInterReq { type = subtype }, family, 120),
        };
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, bytes);
        Assert.Equal(-22, ctx.Guest.SlotRet(off));
        Assert.Equal(ctx.Guest.LastSeqno, ctx.Guest.PublishedSeqno);
    }

    [Fact]
    public void Short_older_request_is_zero_extended()
    {
        var ctx = NewContext();
        // An 80-byte QUERY request (type at 48 present, the rest missing) still decodes: GET_SYS_PROP.
        var bytes = ctx.Guest.Encode(Query(QueryType.GetSysProp), CcmdFamily.QueryInfo, 424, len: 56);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, bytes);
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(2u, ctx.Guest.Response<CcmdQueryInfoRsp>(off).sys_props.NumNodes);
    }

    [Fact]
    public void Response_is_truncated_to_the_guest_reservation()
    {
        var ctx = NewContext();
        var bytes = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 16);
        int off = ctx.Guest.LastRspOff;
        // the next slot follows at +16: it must stay untouched
        int next = ctx.Guest.TakeSlot(8, fill: 0xAB);
        Submit(ctx, bytes);
        Assert.Equal(16u, ctx.Guest.SlotLen(off));
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(ctx.Guest.Slot(off, 16)[8..]));
        Assert.Equal(0xAB, ctx.Guest.Slot(next, 8)[7]);
    }

    [Fact]
    public void Unaligned_len_not_last_stops_the_payload_after_answering_it()
    {
        var ctx = NewContext();
        var first = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424, len: 132);
        int firstOff = ctx.Guest.LastRspOff;
        var second = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424);
        var done = Submit(ctx, first, second);
        Assert.Equal(0x1100u, done.Status);
        Assert.Equal(-22, ctx.Guest.SlotRet(firstOff));
        Assert.Equal(1u, ctx.Guest.PublishedSeqno); // the second was never framed
        Assert.True(ctx.Guest.AsyncError > 0);
    }

    [Fact]
    public void Unaligned_len_is_served_when_last()
    {
        var ctx = NewContext();
        var nop = ctx.Guest.Encode(new CcmdNopReq(), CcmdFamily.Nop, 0);
        var last = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424, len: 132);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, nop, last);
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(2u, ctx.Guest.PublishedSeqno);
    }

    [Fact]
    public void Len_beyond_payload_answers_and_stops()
    {
        var ctx = NewContext();
        var bytes = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424);
        int off = ctx.Guest.LastRspOff;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 4096);
        Submit(ctx, bytes);
        Assert.Equal(-22, ctx.Guest.SlotRet(off));
        Assert.Equal(1u, ctx.Guest.PublishedSeqno);
    }

    [Fact]
    public void Rsp_off_outside_the_area_publishes_seqno_without_writing()
    {
        var ctx = NewContext(shmemSize: 4096);
        var bytes = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424, rspOff: 4096);
        Submit(ctx, bytes);
        Assert.Equal(1u, ctx.Guest.PublishedSeqno);
        Assert.True(ctx.Guest.AsyncError > 0);
    }

    [Fact]
    public void Slot_near_end_of_area_is_bounded_by_the_guest_len_not_the_host_size()
    {
        var ctx = NewContext(shmemSize: 4096);
        int area = 4096 - 16;
        // Guest reserves only 16 bytes at the very end: the 424-byte host answer must still be delivered (truncated).
        int off = area - 16;
        ctx.Guest.Slot(off, 16).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.Guest.Slot(off, 4), 16);
        var bytes = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 0, rspOff: off);
        Submit(ctx, bytes);
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(16u, ctx.Guest.SlotLen(off));
    }

    [Fact]
    public void Guest_len_below_8_gets_no_response_but_seqno()
    {
        var ctx = NewContext();
        int off = ctx.Guest.TakeSlot(8, fill: 0x33);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.Guest.Slot(off, 4), 4);
        var bytes = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 0, rspOff: off);
        Submit(ctx, bytes);
        Assert.Equal(4u, ctx.Guest.SlotLen(off));
        Assert.Equal(0x33, ctx.Guest.Slot(off, 8)[4]);
        Assert.Equal(1u, ctx.Guest.PublishedSeqno);
    }

    [Fact]
    public void Trailing_bytes_are_recorded_and_earlier_ccmds_answered()
    {
        var ctx = NewContext();
        var q = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, q, new byte[8]);
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(1u, ctx.Guest.PublishedSeqno);
        Assert.True(ctx.Guest.AsyncError > 0);
    }

    [Fact]
    public void Several_ccmds_in_one_payload_run_in_order()
    {
        var ctx = NewContext();
        var a = ctx.Guest.Encode(Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424);
        int offA = ctx.Guest.LastRspOff;
        var b = ctx.Guest.Encode(Query(QueryType.GetSysProp), CcmdFamily.QueryInfo, 424);
        int offB = ctx.Guest.LastRspOff;
        Submit(ctx, a, b);
        Assert.Equal(0, ctx.Guest.SlotRet(offA));
        Assert.Equal(0, ctx.Guest.SlotRet(offB));
        Assert.Equal(2u, ctx.Guest.PublishedSeqno);
        Assert.Equal(["GetVersion", "AcquireSystemProperties"], Kfd.Calls.Where(c => c is "GetVersion" or "AcquireSystemProperties").ToArray());
    }

    [Fact]
    public void Kfd_error_zero_fills_stale_slot_bytes()
    {
        var ctx = NewContext();
        Kfd.Fail["GetVersion"] = VhsaKmt.Native.HsaStatus.KernelIoChannelNotOpened;
        var (ret, off) = Run(ctx, Query(QueryType.GetVer), CcmdFamily.QueryInfo, 424);
        Assert.Equal(20, ret);
        Assert.Equal(424u, ctx.Guest.SlotLen(off));
        Assert.True(ctx.Guest.Slot(off, 424)[8..].ToArray().All(b => b == 0));
    }
}
