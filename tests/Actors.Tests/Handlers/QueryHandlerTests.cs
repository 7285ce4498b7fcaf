using System.Runtime.InteropServices;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Handlers;

public sealed class QueryHandlerTests : ContextTestBase
{
    private static CcmdQueryInfoReq Q(QueryType t) => new() { type = (uint)t };

    private CcmdQueryInfoRsp RunOk(TestContext ctx, CcmdQueryInfoReq req, int rspSize = 424)
    {
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, rspSize);
        Assert.Equal(0, ret);
        return ctx.Guest.Response<CcmdQueryInfoRsp>(off);
    }

    [Fact]
    public void Open_kfd_returns_the_context_slice_and_repeats_it()
    {
        var ctx = NewContext();
        var first = RunOk(ctx, Q(QueryType.OpenKfd));
        var again = RunOk(ctx, Q(QueryType.OpenKfd));
        Assert.Equal(ctx.State.Slice!.Start, first.open_kfd_rsp.vm_start);
        Assert.Equal(SliceSize, first.open_kfd_rsp.vm_size);
        Assert.Equal(first.open_kfd_rsp.vm_start, again.open_kfd_rsp.vm_start);
    }

    [Fact]
    public void Two_contexts_get_disjoint_slices()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        var ra = RunOk(a, Q(QueryType.OpenKfd));
        var rb = RunOk(b, Q(QueryType.OpenKfd));
        Assert.True(ra.open_kfd_rsp.vm_start + ra.open_kfd_rsp.vm_size <= rb.open_kfd_rsp.vm_start
                    || rb.open_kfd_rsp.vm_start + rb.open_kfd_rsp.vm_size <= ra.open_kfd_rsp.vm_start);
    }

    [Fact]
    public void Node_properties_and_bad_node()
    {
        var ctx = NewContext();
        var rsp = RunOk(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = 1 });
        Assert.Equal(192u, rsp.node_props.NumFComputeCores);
        var (ret, _) = Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = 7 }, CcmdFamily.QueryInfo, 424);
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, ret);
    }

    [Fact]
    public void Memory_banks_payload_at_424_and_count_limits()
    {
        var ctx = NewContext();
        var req = Q(QueryType.GetNodMemProp);
        req.node_mem_prop_args = new QueryReqNodeMemPropArgs { NodeId = 1, NumBanks = 2 };
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, 424 + 64);
        Assert.Equal(0, ret);
        Assert.Equal(424u + 64, ctx.Guest.SlotLen(off));
        Assert.Equal(0xB1, ctx.Guest.Slot(off, 488)[424]);

        req.node_mem_prop_args.NumBanks = 129;
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 424).Ret);
        // within the limit but larger than the guest reserved: refused, never overflowing the slot
        req.node_mem_prop_args.NumBanks = 4;
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 424 + 32).Ret);
    }

    [Fact]
    public void Cache_array_beyond_the_response_area_is_refused()
    {
        var ctx = NewContext(shmemSize: 25 * 4096);
        var req = Q(QueryType.GetNodCacheProp);
        req.node_cache_prop_args = new QueryReqNodeCachePropArgs { NodeId = 1, NumCaches = 97 };
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 424).Ret);
        Assert.Empty(Kfd.CallsNamed("GetNodeCacheProperties"));
        req.node_cache_prop_args.NumCaches = 3;
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, 424 + 3 * 1056);
        Assert.Equal(0, ret);
        Assert.Equal(0xC1, ctx.Guest.Slot(off, 425)[424]);
    }

    [Fact]
    public void Io_links_limit()
    {
        var ctx = NewContext();
        var req = Q(QueryType.GetNodIoLinkProp);
        req.node_io_link_args = new QueryReqNodeIoLinkArgs { NodeId = 1, NumIoLinks = 513 };
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 424).Ret);
        req.node_io_link_args.NumIoLinks = 1;
        Assert.Equal(0, Run(ctx, req, CcmdFamily.QueryInfo, 424 + 56).Ret);
    }

    [Fact]
    public void Pointer_info_outside_the_context_is_refused_and_host_pointers_scrubbed()
    {
        var ctx = NewContext();
        var req = Q(QueryType.PointerInfo);
        req.pointer = 0x7fff_1234_0000;
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 436).Ret);
        Assert.Empty(Kfd.CallsNamed("QueryPointerInfo"));

        var open = RunOk(ctx, Q(QueryType.OpenKfd));
        req.pointer = open.open_kfd_rsp.vm_start + 0x1000;
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, 436);
        Assert.Equal(0, ret);
        var rsp = ctx.Guest.Response<CcmdQueryInfoRsp>(off);
        Assert.Equal(0UL, rsp.ptr_info.UserData);
        Assert.Equal(0UL, rsp.ptr_info.MappedNodes);
        Assert.Equal(0UL, rsp.ptr_info.CPUAddress);
        // 5 mapped nodes on the host, the guest reserved ALIGN8(424 + 12) = 440: truncated to 4, never failed
        Assert.Equal(440u, ctx.Guest.SlotLen(off));
        Assert.Equal(10u, MemoryMarshal.Read<uint>(ctx.Guest.Slot(off, 440)[424..]));
        Assert.Equal(13u, MemoryMarshal.Read<uint>(ctx.Guest.Slot(off, 440)[436..]));
    }

    [Fact]
    public void Tile_config_restores_guest_pointers_and_limits_counts()
    {
        var ctx = NewContext();
        var req = Q(QueryType.TileConfig);
        req.tile_config_args.NodeId = 1;
        req.tile_config_args.config.NumTileConfigs = 2;
        req.tile_config_args.config.NumMacroTileConfigs = 1;
        req.tile_config_args.config.TileConfig = 0x1111;
        req.tile_config_args.config.MacroTileConfig = 0x2222;
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, 424 + 12);
        Assert.Equal(0, ret);
        var rsp = ctx.Guest.Response<CcmdQueryInfoRsp>(off);
        Assert.Equal(0x1111UL, rsp.tile_config_rsp.TileConfig);
        Assert.Equal(0x2222UL, rsp.tile_config_rsp.MacroTileConfig);
        Assert.Equal(0x1234u, rsp.tile_config_rsp.GbAddrConfig);
        var words = MemoryMarshal.Cast<byte, uint>(ctx.Guest.Slot(off, 436)[424..]);
        Assert.Equal([0x77u, 0x77u, 0x88u], words.ToArray());
        req.tile_config_args.config.NumTileConfigs = 129;
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 424).Ret);
    }

    [Fact]
    public void Nano_time_comes_from_the_clock()
    {
        var ctx = NewContext();
        Assert.Equal(123_456_789UL, RunOk(ctx, Q(QueryType.NanoTime)).nano_time_rsp.nano_time);
    }

    [Fact]
    public void Device_handle_is_opaque_and_drm_write_read_checks_it()
    {
        var ctx = NewContext();
        var rsp = RunOk(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.AmdgpuDeviceHandle, NodeID = 1 });
        ulong handle = rsp.device_handle_rsp.amdgpu_device_handle, fd = rsp.device_handle_rsp.fd;
        Assert.NotEqual(0UL, handle);
        Assert.NotEqual(handle, fd);
        Assert.True(fd > 0xFFFF, "not a small host fd number");
        Assert.Equal(handle, RunOk(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.AmdgpuDeviceHandle, NodeID = 1 }).device_handle_rsp.amdgpu_device_handle);
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.AmdgpuDeviceHandle, NodeID = 0 }, CcmdFamily.QueryInfo, 424).Ret);

        var drm = Q(QueryType.DrmCmdWriteRead);
        drm.drm_cmd_write_read_args = new QueryDrmCmdWriteReadArgs { fd = fd, drmCommandIndex = 5, size = 16 };
        Assert.Equal((int)HsaStatus.NotSupported, Run(ctx, drm, CcmdFamily.QueryInfo, 440, new byte[16]).Ret);
        drm.drm_cmd_write_read_args.fd = 3; // a raw host fd number
        Assert.Equal(-22, Run(ctx, drm, CcmdFamily.QueryInfo, 440, new byte[16]).Ret);
        drm.drm_cmd_write_read_args.fd = fd;
        drm.drm_cmd_write_read_args.drmCommandIndex = 0x40; // not allowlisted
        Assert.Equal(-22, Run(ctx, drm, CcmdFamily.QueryInfo, 440, new byte[16]).Ret);
        drm.drm_cmd_write_read_args.drmCommandIndex = 5;
        drm.drm_cmd_write_read_args.size = 200;
        Assert.Equal(-22, Run(ctx, drm, CcmdFamily.QueryInfo, 440, new byte[16]).Ret);
        drm.drm_cmd_write_read_args.size = 64; // len does not cover 128 + size
        Assert.Equal(-22, Run(ctx, drm, CcmdFamily.QueryInfo, 440, new byte[16]).Ret);
    }

    [Fact]
    public void Device_handle_of_another_context_is_refused()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        var rsp = RunOk(a, new CcmdQueryInfoReq { type = (uint)QueryType.AmdgpuDeviceHandle, NodeID = 1 });
        var drm = Q(QueryType.DrmCmdWriteRead);
        drm.drm_cmd_write_read_args = new QueryDrmCmdWriteReadArgs { fd = rsp.device_handle_rsp.fd, drmCommandIndex = 5, size = 8 };
        Assert.Equal(-22, Run(b, drm, CcmdFamily.QueryInfo, 432, new byte[8]).Ret);
    }

    [Fact]
    public void Xnack_mode_may_change_only_while_alone()
    {
        var a = NewContext(1);
        var set = new CcmdQueryInfoReq { type = (uint)QueryType.SetXnackMode, xnack_mode = 1 };
        Assert.Equal(0, Run(a, set, CcmdFamily.QueryInfo, 424).Ret);
        Assert.Equal(1, Kfd.XnackMode);
        var b = NewContext(2);
        set.xnack_mode = 0;
        Assert.Equal((int)HsaStatus.NotSupported, Run(b, set, CcmdFamily.QueryInfo, 424).Ret);
        set.xnack_mode = 1; // confirming the current mode is fine
        Assert.Equal(0, Run(b, set, CcmdFamily.QueryInfo, 424).Ret);
        Assert.Single(Kfd.CallsNamed("SetXnackMode"));
    }

    [Fact]
    public void Runtime_enable_is_shared_and_disabled_by_the_last()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        Kfd.Fail["RuntimeEnable"] = HsaStatus.Unavailable; // the thunk's "already enabled" turns into success
        Assert.Equal(0, Run(a, Q(QueryType.RunTimeEnable), CcmdFamily.QueryInfo, 424).Ret);
        Assert.Equal(0, Run(b, Q(QueryType.RunTimeEnable), CcmdFamily.QueryInfo, 424).Ret);
        Assert.Single(Kfd.CallsNamed("RuntimeEnable"));
        Assert.Equal(0, Run(a, Q(QueryType.RunTimeDisable), CcmdFamily.QueryInfo, 424).Ret);
        Assert.Empty(Kfd.CallsNamed("RuntimeDisable"));
        Destroy(b);
        Assert.Single(Kfd.CallsNamed("RuntimeDisable"));
    }

    [Fact]
    public void Gpu_info_clock_caps_avail_and_spm()
    {
        var ctx = NewContext();
        Assert.Equal(0x7448u, RunOk(ctx, Q(QueryType.GpuInfo)).gpu_info.asic_id);
        Assert.Equal(42UL, RunOk(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.GetClockCounters, NodeID = 1 }).clock_counters.GPUClockCounter);
        Assert.Equal(5u, RunOk(ctx, Q(QueryType.GetRuntimeCaps)).caps);
        Assert.Equal(0, Run(ctx, Q(QueryType.RelSysProp), CcmdFamily.QueryInfo, 424).Ret);
        Assert.Equal(0, Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.SpmAcquire, NodeID = 1 }, CcmdFamily.QueryInfo, 424).Ret);
        Assert.Equal(0, Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.SpmRelease, NodeID = 1 }, CcmdFamily.QueryInfo, 424).Ret);
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.SpmAcquire, NodeID = 9 }, CcmdFamily.QueryInfo, 424).Ret);
    }

    [Fact]
    public void Spm_set_dst_buffer_without_blob_returns_data_at_424()
    {
        var ctx = NewContext();
        var req = Q(QueryType.SpmSetDstBuffer);
        req.spm_set_dst_buffer_args = new QuerySpmSetDstBufferArgs { PreferredNode = 1, SizeInBytes = 32, timeout = 100 };
        var (ret, off) = Run(ctx, req, CcmdFamily.QueryInfo, 424 + 32);
        Assert.Equal(0, ret);
        var rsp = ctx.Guest.Response<CcmdQueryInfoRsp>(off);
        Assert.Equal(32u, rsp.spm_set_dst_buffer_rsp.SizeCopied);
        Assert.Equal(7u, rsp.spm_set_dst_buffer_rsp.timeout);
        Assert.Equal(0x5e, ctx.Guest.Slot(off, 456)[424]);
        req.spm_set_dst_buffer_args.res_id = 777; // no such object
        Assert.Equal(-22, Run(ctx, req, CcmdFamily.QueryInfo, 456).Ret);
    }
}
