using VhsaKmt.TestSupport.Memory;
using System.Runtime.InteropServices;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Handlers;

public sealed class MemoryHandlerTests : ContextTestBase
{
    private (int Ret, CcmdMemoryRsp Rsp, int Off) Mem(TestContext ctx, CcmdMemoryReq req, ReadOnlySpan<byte> payload = default, int rspSize = CcmdMemoryRsp.Size)
    {
        var (ret, off) = Run(ctx, req, CcmdFamily.Memory, rspSize, payload);
        return (ret, ctx.Guest.Response<CcmdMemoryRsp>(off), off);
    }

    private static byte[] Nodes(params uint[] n) => MemoryMarshal.AsBytes(n.AsSpan()).ToArray();

    [Fact]
    public void Host_alloc_is_mirrored_inside_the_slice_with_the_guest_alignment()
    {
        var ctx = NewContext();
        var (ret, va) = TryAlloc(ctx, 2, 0x3000, HostAccess, node: 0, alignment: 0x10000);
        Assert.Equal(0, ret);
        Assert.True(ctx.State.Slice!.Contains(va, 0x3000));
        Assert.Equal(0UL, va % 0x10000);
        Assert.Contains($"AllocMemory(0x{va:x},0x3000)", Kfd.Calls);
        Assert.Single(ctx.State.Objects.OfType<MemoryObject>());
    }

    [Fact]
    public void Device_local_alloc_is_2MiB_aligned_and_quota_limited()
    {
        Settings = ContextSettings.Default with { VramQuotaBytes = 4UL << 20 };
        var ctx = NewContext();
        var (ret, va) = TryAlloc(ctx, 2, 0x1000, NonPaged, node: 1);
        Assert.Equal(0, ret);
        Assert.Equal(0UL, va % (2UL << 20));
        Assert.Equal((int)HsaStatus.NoMemory, TryAlloc(ctx, 3, 4UL << 20, NonPaged, node: 1).Ret);
        Assert.Equal(0, TryAlloc(ctx, 4, 0x1000, HostAccess, node: 0).Ret); // host memory is not VRAM
    }

    [Theory]
    [InlineData(0x1001UL, 0UL)]
    [InlineData(0UL, 0UL)]
    [InlineData(0x1000UL, 0x800UL)]
    [InlineData(0x1000UL, 0x3000UL)]
    public void Alloc_rejects_bad_size_and_alignment(ulong size, ulong alignment)
    {
        var ctx = NewContext();
        Assert.Equal(-22, TryAlloc(ctx, 2, size, HostAccess, 0, alignment).Ret);
        Assert.Empty(Kfd.CallsNamed("AllocMemory"));
    }

    [Fact]
    public void Alloc_rejects_bad_node_blob_ids_and_too_large()
    {
        var ctx = NewContext();
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, TryAlloc(ctx, 2, 0x1000, HostAccess, node: 9).Ret);
        Assert.Equal(-22, TryAlloc(ctx, 0, 0x1000).Ret);
        Assert.Equal(-22, TryAlloc(ctx, 1UL << 40, 0x1000).Ret);
        Assert.Equal(0, TryAlloc(ctx, 2, 0x1000).Ret);
        Assert.Equal(-22, TryAlloc(ctx, 2, 0x1000).Ret); // parked already
        Assert.Equal(-12, TryAlloc(ctx, 3, SliceSize * 2).Ret); // does not fit the slice
    }

    [Fact]
    public void Failed_kfd_alloc_gives_the_va_back()
    {
        var ctx = NewContext();
        Kfd.Fail["AllocMemory"] = HsaStatus.NoMemory;
        Assert.Equal((int)HsaStatus.NoMemory, TryAlloc(ctx, 2, 0x1000).Ret);
        Assert.Equal(0, ctx.State.Slice!.AllocationCount);
        Assert.Empty(ctx.State.Objects.OfType<MemoryObject>());
    }

    [Fact]
    public void Object_limit_answers_out_of_resources()
    {
        Settings = ContextSettings.Default with { MaxObjects = 3 }; // shmem + 2
        var ctx = NewContext();
        Assert.Equal(0, TryAlloc(ctx, 2, 0x1000).Ret);
        Assert.Equal(0, TryAlloc(ctx, 3, 0x1000).Ret);
        Assert.Equal((int)HsaStatus.OutOfResources, TryAlloc(ctx, 4, 0x1000).Ret);
    }

    [Fact]
    public void NoAddress_and_scratch_allocations()
    {
        var ctx = NewContext();
        var (ret, handle) = TryAlloc(ctx, 2, 0x2000, NoAddress | HostAccess, node: 0);
        Assert.Equal(0, ret);
        Assert.False(ctx.State.Slice?.Contains(handle, 1) ?? false);
        var (sret, sva) = TryAlloc(ctx, 3, 0x10000, Scratch, node: 1);
        Assert.Equal(0, sret);
        Assert.False(ctx.State.Slice!.Contains(sva, 1));
        Assert.True(ctx.State.Slice.ContainsAny(sva, 0x10000));
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, TryAlloc(ctx, 4, 0x1000, Scratch, node: 0).Ret);
    }

    [Fact]
    public void Map_and_unmap_need_memory_of_this_context()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        ulong va = AllocBound(a, 2, 10, 0x4000);
        var map = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes };
        map.map_to_GPU_nodes_args = new MemoryReqMapToGPUNodesArgs { MemoryAddress = va, MemorySizeInBytes = 0x4000, NumberOfNodes = 1 };
        var (ret, rsp, _) = Mem(a, map, Nodes(1));
        Assert.Equal(0, ret);
        Assert.Equal(va, rsp.alternate_vagpu);
        Assert.Equal(-22, Mem(b, map, Nodes(1)).Ret);             // another context's VA
        Assert.Equal(-22, Mem(a, map).Ret);                       // node ids missing
        map.map_to_GPU_nodes_args.NumberOfNodes = 3;
        Assert.Equal(-22, Mem(a, map, Nodes(1, 0, 1)).Ret);       // more nodes than exist
        map.map_to_GPU_nodes_args.NumberOfNodes = 1;
        Assert.Equal(-22, Mem(a, map, Nodes(7)).Ret);             // unknown node
        map.map_to_GPU_nodes_args.MemorySizeInBytes = 0x5000;
        Assert.Equal(-22, Mem(a, map, Nodes(1)).Ret);             // runs past the object

        var unmap = new CcmdMemoryReq { type = (uint)MemoryType.UnmapToGpu, MemoryAddress = va };
        Assert.Equal(0, Mem(a, unmap).Ret);
        Assert.Equal(0, Kfd.Counters.Mappings);
        Assert.Equal(-22, Mem(b, unmap).Ret);

        var mapSimple = new CcmdMemoryReq { type = (uint)MemoryType.MapMemToGpu };
        mapSimple.map_to_GPU_args = new MemoryMapMemToGpuArgs { MemoryAddress = va + 0x1000, MemorySizeInBytes = 0x1000 };
        Assert.Equal(0, Mem(a, mapSimple).Ret);
        Assert.Equal(1, Kfd.Counters.Mappings);
    }

    [Fact]
    public void Map_mem_to_gpu_with_create_bo_parks_a_scratch_map_released_by_detach()
    {
        var ctx = NewContext();
        var (_, sva) = TryAlloc(ctx, 2, 0x10000, Scratch, node: 1);
        var req = new CcmdMemoryReq { type = (uint)MemoryType.MapMemToGpu, blob_id = 3 };
        req.map_to_GPU_args = new MemoryMapMemToGpuArgs { MemoryAddress = sva, MemorySizeInBytes = 0x10000, need_create_bo = 1 };
        Assert.Equal(0, Mem(ctx, req).Ret);
        Assert.Single(ctx.State.Objects.OfType<ScratchMapObject>());
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 20, 3, 1, 0x10000)); // MAPPABLE refused, stays parked
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 20, 3, 0, 0x10000));
        Detach(ctx, 20);
        Assert.Equal(0, Kfd.Counters.Mappings);
        Assert.Empty(ctx.State.Objects.OfType<ScratchMapObject>());
    }

    [Fact]
    public void Free_is_refused_and_avail_mem_answers()
    {
        var ctx = NewContext();
        ulong va = AllocBound(ctx, 2, 10, 0x1000);
        var free = new CcmdMemoryReq { type = (uint)MemoryType.Free };
        free.free_args = new MemoryReqFreeArgs { MemoryAddress = va, SizeInBytes = 0x1000 };
        Assert.Equal(-22, Mem(ctx, free).Ret);
        Assert.Empty(Kfd.CallsNamed("FreeMemory"));
        var (ret, rsp, _) = Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.AvailMem, Node = 1 });
        Assert.Equal(0, ret);
        Assert.Equal(1UL << 33, rsp.available_bytes);
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.AvailMem, Node = 4 }).Ret);
    }

    [Fact]
    public void Export_dmabuf_never_returns_a_host_fd_and_is_cached()
    {
        var ctx = NewContext();
        AllocBound(ctx, 2, 10, 0x1000);
        var (ret, rsp, _) = Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.ExportDmabuf, res_id = 10 });
        Assert.Equal(0, ret);
        var obj = Assert.Single(ctx.State.Objects.OfType<MemoryObject>());
        Assert.Equal((long)obj.Id, rsp.export_dmabuf_rsp.dmabuf_fd);
        Assert.Equal(0x40UL, rsp.export_dmabuf_rsp.offset);
        Assert.Equal(0, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.ExportDmabuf, res_id = 10 }).Ret);
        Assert.Single(Kfd.CallsNamed("ExportDmaBuf"));
        Assert.Equal(-22, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.ExportDmabuf, res_id = 11 }).Ret);
    }

    [Fact]
    public void Amdgpu_subtypes_validate_then_answer_not_supported()
    {
        var ctx = NewContext();
        AllocBound(ctx, 2, 10, 0x1000);
        Assert.Equal(0, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.ExportDmabuf, res_id = 10 }).Ret);
        var q = new CcmdQueryInfoReq { type = (uint)QueryType.AmdgpuDeviceHandle, NodeID = 1 };
        var (_, qoff) = Run(ctx, q, CcmdFamily.QueryInfo, 424);
        long dev = (long)ctx.Guest.Response<CcmdQueryInfoRsp>(qoff).device_handle_rsp.amdgpu_device_handle;
        var import = new CcmdMemoryReq { type = (uint)MemoryType.AmdgpuImport, res_id = 10 };
        import.amdgpu_import_args = new MemoryAmdgpuImportArgs { dev = dev, type = 2 };
        Assert.Equal((int)HsaStatus.NotSupported, Mem(ctx, import).Ret);
        import.amdgpu_import_args.dev = 0x5555_0000; // a host pointer
        Assert.Equal(-22, Mem(ctx, import).Ret);
        foreach (var t in new[] { MemoryType.AmdgpuExport, MemoryType.AmdgpuVaOp, MemoryType.AmdgpuBoQueryInfo, MemoryType.AmdgpuBoSetMetadata })
        {
            Assert.Equal((int)HsaStatus.NotSupported, Mem(ctx, new CcmdMemoryReq { type = (uint)t, res_id = 10 }).Ret);
            Assert.Equal(-22, Mem(ctx, new CcmdMemoryReq { type = (uint)t, res_id = 99 }).Ret);
        }
        Assert.Equal(0, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.AmdgpuBoFree, res_id = 10 }).Ret);
    }

    [Fact]
    public void Share_and_register_shared_handle_park_the_import_inside_the_slice()
    {
        var ctx = NewContext();
        ulong va = AllocBound(ctx, 2, 10, 0x10000);
        var share = new CcmdMemoryReq { type = (uint)MemoryType.ShareMemory };
        share.share_memory_args = new MemoryShareMemoryArgs { MemoryAddress = va, MemorySizeInBytes = 0x10000 };
        var (ret, rsp, _) = Mem(ctx, share);
        Assert.Equal(0, ret);
        Assert.Equal(0x5au, rsp.share_memory_rsp.SharedMemoryHandle[0]);

        var reg = new CcmdMemoryReq { type = (uint)MemoryType.RegisterSharedHandle, blob_id = 3 };
        reg.register_shared_handle_args.SharedMemoryHandle = rsp.share_memory_rsp.SharedMemoryHandle;
        reg.register_shared_handle_args.NumberOfNodes = 33;
        Assert.Equal((int)HsaStatus.InvalidParameter, Mem(ctx, reg, Nodes(1)).Ret);
        reg.register_shared_handle_args.NumberOfNodes = 1;
        var (r2, rsp2, _) = Mem(ctx, reg, Nodes(1, 0)); // G-new sends 8 bytes per node
        Assert.Equal(0, r2);
        Assert.True(ctx.State.Slice!.Contains(rsp2.register_shared_handle_rsp.memory_handle, rsp2.register_shared_handle_rsp.size));
        var created = Assert.IsType<BlobCreated>(CreateBlob(ctx, 11, 3, 1, 0x10000));
        Assert.NotNull(created.Backing);
    }

    [Fact]
    public void Set_mem_policy_checks_the_range_only_when_sized()
    {
        var ctx = NewContext();
        var req = new CcmdMemoryReq { type = (uint)MemoryType.SetMemPolicy };
        req.set_mem_policy_args = new MemorySetMemPolicyArgs { Node = 1 };
        Assert.Equal(0, Mem(ctx, req).Ret);
        req.set_mem_policy_args.MemoryAddressAlternate = 0x7000_0000;
        req.set_mem_policy_args.MemorySizeInBytes = 0x1000;
        Assert.Equal(-22, Mem(ctx, req).Ret);
    }

    [Fact]
    public void Svm_attributes_go_to_payload_320_and_are_bounded()
    {
        var ctx = NewContext();
        ulong va = AllocBound(ctx, 2, 10, 0x4000);
        var get = new CcmdMemoryReq { type = (uint)MemoryType.SvmGetAttr, res_id = 10 };
        get.svm_attr_args = new MemorySvmAttrArgs { start_addr = va, size = 0x4000, nattr = 2 };
        var (ret, _, off) = Mem(ctx, get, rspSize: 320 + 16);
        Assert.Equal(0, ret);
        Assert.Equal(336u, ctx.Guest.SlotLen(off));
        Assert.Equal(0x99UL, MemoryMarshal.Read<ulong>(ctx.Guest.Slot(off, 336)[320..]));
        get.svm_attr_args.nattr = 33;
        Assert.Equal(-22, Mem(ctx, get, rspSize: 320).Ret);

        var set = new CcmdMemoryReq { type = (uint)MemoryType.SvmSetAttr, res_id = 10 };
        set.svm_attr_args = new MemorySvmAttrArgs { start_addr = va, size = 0x4000, nattr = 2 };
        Assert.Equal(-22, Mem(ctx, set, new byte[8]).Ret); // payload short
        Assert.Equal(0, Mem(ctx, set, new byte[16]).Ret);
        Assert.Contains($"SvmSetAttr(0x{va:x},2)", Kfd.Calls);
    }

    [Fact]
    public void Userptr_maps_guest_pages_and_registers_and_releases()
    {
        var ctx = NewContext();
        GuestMemory.View.AsSpan(0x2000, 4)[0] = 0x42;
        var entries = new[] { new MemEntry(MemfdGuestMemory.Base + 0x2000, 0x1000), new MemEntry(MemfdGuestMemory.Base + 0x8000, 0x1000) };
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 30, 9, 8 | 1, 0x2000, blobMem: 3, entries)); // USERPTR may not be MAPPABLE
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 30, 9, 0x20, 0x2000, blobMem: 3, entries)); // USE_SVM
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 30, 9, 8, 0x2000, blobMem: 3, entries));
        var u = Assert.Single(ctx.State.Objects.OfType<UserptrObject>());
        // the host sees the guest's bytes at the placeholder, and writes back into guest RAM
        Assert.Equal(0x42, Marshal.ReadByte((nint)u.Address));
        Marshal.WriteByte((nint)(u.Address + 0x1000), 0x24);
        Assert.Equal(0x24, GuestMemory.View.AsSpan(0x8000, 1)[0]);

        var (ret, rsp, _) = Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.MapUserptr, res_id = 30 });
        Assert.Equal(0, ret);
        Assert.Equal(u.Address, rsp.map_userptr_rsp.userptr_handle);
        Assert.Equal(0x2000u, rsp.map_userptr_rsp.npfns);

        var reg = new CcmdMemoryReq { type = (uint)MemoryType.RegMemWithFlag, res_id = 30 };
        reg.reg_mem_with_flag = new MemoryRegMemWithFlag { MemoryAddress = u.Address, MemorySizeInBytes = 0x3000 };
        Assert.Equal(-22, Mem(ctx, reg).Ret); // larger than the userptr
        reg.reg_mem_with_flag.MemorySizeInBytes = 0x1800;
        Assert.Equal(0, Mem(ctx, reg).Ret);
        Assert.Equal((int)HsaStatus.MemoryAlreadyRegistered, Mem(ctx, reg).Ret);

        var map = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes, res_id = 30 };
        map.map_to_GPU_nodes_args = new MemoryReqMapToGPUNodesArgs { MemoryAddress = u.Address, MemorySizeInBytes = 0x2000, NumberOfNodes = 1 };
        Assert.Equal(0, Mem(ctx, map, Nodes(1)).Ret);

        Detach(ctx, 30);
        Assert.Equal(0, Kfd.Counters.Registrations);
        Assert.Equal(0, Kfd.Counters.Mappings);
        int unmap = Kfd.IndexOf($"UnmapMemoryToGpu(0x{u.Address:x})"), dereg = Kfd.IndexOf($"DeregisterMemory(0x{u.Address:x})");
        Assert.True(unmap >= 0 && unmap < dereg, "GPU unmap before deregister");
    }

    [Fact]
    public void Userptr_with_unaligned_or_foreign_pages_is_refused()
    {
        var ctx = NewContext();
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 30, 9, 8, 0x1000, blobMem: 3, [new MemEntry(MemfdGuestMemory.Base + 0x10, 0x1000)]));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 30, 9, 8, 0x1000, blobMem: 3, [new MemEntry(0x9000_0000, 0x1000)]));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 30, 9, 8, 0x1000, blobMem: 3, []));
        Assert.Empty(ctx.State.Objects.OfType<UserptrObject>());
    }

    [Fact]
    public void Reg_mem_and_dereg_check_the_object_type()
    {
        var ctx = NewContext();
        AllocBound(ctx, 2, 10, 0x1000);
        var reg = new CcmdMemoryReq { type = (uint)MemoryType.RegMemWithFlag, res_id = 10 };
        Assert.Equal(-22, Mem(ctx, reg).Ret);
        Assert.Equal(-22, Mem(ctx, new CcmdMemoryReq { type = (uint)MemoryType.DeregMem, res_id = 10 }).Ret);
        Assert.Single(ctx.State.Objects.OfType<MemoryObject>());
    }
}
