using System.Buffers.Binary;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Robustness.Tests.Support;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Robustness.Tests;

/// <summary>The hostile cases by name; each asserts the error the guest gets. Shared checks run after each (see the test).</summary>
public static class HostileCases
{
    private const int EINVAL = -22, ENOSYS = -38;
    private static readonly CcmdQueryInfoReq GetVer = new() { type = (uint)QueryType.GetVer };

    public static readonly IReadOnlyDictionary<string, Action<Scenario>> All = new Dictionary<string, Action<Scenario>>
    {
        // ---------------------------------------------------------------- framing: lengths that lie, rsp_off
        ["len below the header"] = s => Framed(s, len: 8, expectRet: EINVAL),
        ["len past the payload end"] = s => Framed(s, len: CcmdQueryInfoReq.Size + 64, expectRet: EINVAL),
        ["len not a multiple of 8 with more ccmds after"] = s =>
        {
            uint seq = s.Raw.NextSeqno();
            var first = RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size - 4, seq, s.Raw.SlotOffset);
            var second = RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, s.Raw.NextSeqno(), s.Raw.SlotOffset + 512);
            s.Raw.Prewrite(s.Raw.SlotOffset, 256);
            var a = s.Raw.Submit([.. first, .. second], s.Raw.SlotOffset, seq);
            Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
            Assert.Equal(EINVAL, a.Ret);
            Assert.Equal(seq, a.Published); // the rest of the payload is dropped
        },
        ["len of 0xFFFFFFFF"] = s => Framed(s, len: 0xFFFF_FFFF, expectRet: EINVAL),
        ["rsp_off unaligned"] = s =>
        {
            uint seq = s.Raw.NextSeqno();
            var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, seq, s.Raw.SlotOffset + 3), s.Raw.SlotOffset, seq);
            Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
            Assert.Equal(seq, a.Published);
        },
        ["rsp_off past the shmem"] = s => OutsideSlot(s, 0xFFFF_FFF8),
        ["rsp_off exactly at the area end"] = s => OutsideSlot(s, (uint)s.Raw.AreaSize),
        ["rsp_off whose slot crosses the area end"] = s =>
        {
            uint off = (uint)s.Raw.AreaSize - 8;
            uint seq = s.Raw.NextSeqno();
            s.Raw.Prewrite((uint)s.Raw.AreaSize - 256, 0); // clear, then the guest claims a 2 KiB slot at the last 8 bytes
            var last = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(last, 2048);
            s.Gpu.Window.Write(s.Raw.ShmOffset + s.Raw.RspMemOffset + off, last);
            var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, seq, off), off, seq, slotBytes: 8);
            Assert.Equal(seq, a.Published);
            Assert.Equal(EINVAL, a.Ret); // a success that does not fit becomes -EINVAL in the 8 bytes that exist
        },
        ["guest slot length below 8"] = s =>
        {
            uint seq = s.Raw.NextSeqno();
            s.Raw.Prewrite(s.Raw.SlotOffset, 4);
            var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, seq, s.Raw.SlotOffset), s.Raw.SlotOffset, seq);
            Assert.Equal(seq, a.Published);
            Assert.Equal(4u, a.SlotLen); // nothing written
            Assert.Equal(unchecked((int)0xEEEEEEEE), a.Ret);
        },
        ["unknown family 0"] = s => Family(s, 0),
        ["unknown family 7"] = s => Family(s, 7),
        ["unknown family 0xFFFFFFFF"] = s => Family(s, 0xFFFF_FFFF),
        ["unknown QUERY subtype"] = s => Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.QueryInfo, new CcmdQueryInfoReq { type = 999 }).Ret),
        ["unknown MEMORY subtype"] = s => Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Memory, new CcmdMemoryReq { type = 0x8000_0000 }).Ret),
        ["unknown QUEUE subtype"] = s => Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Queue, new CcmdQueueReq { type = 77 }).Ret),
        ["unknown EVENT subtype"] = s => Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Event, new CcmdEventReq { type = 7 }).Ret),
        ["trailing bytes after the last ccmd"] = s =>
        {
            uint seq = s.Raw.NextSeqno();
            s.Raw.Prewrite(s.Raw.SlotOffset, 256);
            var a = s.Raw.Submit([.. RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, seq, s.Raw.SlotOffset), 1, 2, 3], s.Raw.SlotOffset, seq);
            Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
            Assert.Equal(0, a.Ret); // the ccmd itself was whole
            Assert.Equal(seq, a.Published);
        },
        ["empty SUBMIT_3D"] = s => Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, s.Gpu.Command(GpuRequests.Submit3D(s.Victim.CtxId, [])).Type),
        ["SUBMIT_3D size beyond the chain"] = s =>
        {
            var req = GpuRequests.Submit3D(s.Victim.CtxId, new byte[16]);
            BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(24), 4096);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, s.Gpu.Command(req).Type);
        },
        ["SUBMIT_3D size over the limit"] = s =>
        {
            var req = GpuRequests.Submit3D(s.Victim.CtxId, new byte[16]);
            BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(24), 0xFFFF_FFF0);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, s.Gpu.Command(req).Type);
        },
        ["seqno wrap"] = s =>
        {
            var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, 0xFFFF_FFFF, s.Raw.SlotOffset), s.Raw.SlotOffset, 0xFFFF_FFFF);
            Assert.Equal(0xFFFF_FFFFu, a.Published);
        },
        ["short request is zero-extended, not over-read"] = s =>
        {
            uint seq = s.Raw.NextSeqno();
            s.Raw.Prewrite(s.Raw.SlotOffset, 256);
            var bytes = RawCcmd.Request(new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = 1 });
            // len 48 cuts off the subtype: zero-extended, the subtype reads as 0 (GPU_INFO) with node 0.
            var a = s.Raw.Submit(RawCcmd.Stamp(bytes[..48], (uint)CcmdFamily.QueryInfo, 48, seq, s.Raw.SlotOffset), s.Raw.SlotOffset, seq);
            Assert.Equal(seq, a.Published);
            Assert.NotEqual(unchecked((int)0xEEEEEEEE), a.Ret);
        },

        // ---------------------------------------------------------------- huge counts, bad nodes
        ["node memory banks 0xFFFFFFFF"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, Query(QueryType.GetNodMemProp, 1, 0xFFFF_FFFF)).Ret),
        ["node caches 0xFFFFFFFF"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, Query(QueryType.GetNodCacheProp, 1, 0, 0xFFFF_FFFF)).Ret),
        ["node io links 0xFFFFFFFF"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, Query(QueryType.GetNodIoLinkProp, 1, 0xFFFF_FFFF)).Ret),
        ["tile config with huge counts"] = s =>
        {
            var q = new CcmdQueryInfoReq { type = (uint)QueryType.TileConfig };
            q.tile_config_args.NodeId = 1;
            q.tile_config_args.config.NumTileConfigs = 0xFFFF_FFFF;
            q.tile_config_args.config.NumMacroTileConfigs = 0xFFFF_FFFF;
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, q).Ret);
        },
        ["node properties of node 999"] = s => Assert.Equal((int)HsaStatus.InvalidNodeUnit, s.Raw.One(CcmdFamily.QueryInfo, new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = 999 }).Ret),
        ["clock counters of node 0xFFFFFFFF"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, new CcmdQueryInfoReq { type = (uint)QueryType.GetClockCounters, NodeID = 0xFFFF_FFFF }).Ret),
        ["DRM write-read with a huge size"] = s =>
        {
            var q = new CcmdQueryInfoReq { type = (uint)QueryType.DrmCmdWriteRead };
            q.drm_cmd_write_read_args.size = ulong.MaxValue;
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.QueryInfo, q).Ret);
        },
        ["map to 0xFFFFFFFF GPU nodes"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var m = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes, res_id = a.Blob!.ResId };
            m.map_to_GPU_nodes_args = new MemoryReqMapToGPUNodesArgs { MemoryAddress = a.Va, MemorySizeInBytes = 4096, NumberOfNodes = 0xFFFF_FFFF };
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m).Ret);
        },

        // ---------------------------------------------------------------- memory: sizes, VAs, double free
        ["alloc of 0 bytes"] = s => Assert.NotEqual(0, s.Victim.AllocMemory(1, 0, HsaMemFlags.HostAccess).Ret),
        ["alloc of 2^60 bytes"] = s => Assert.NotEqual(0, s.Victim.AllocMemory(1, 1UL << 60, HsaMemFlags.HostAccess).Ret),
        ["alloc on node 42"] = s => Assert.NotEqual(0, s.Victim.AllocMemory(42, 4096, HsaMemFlags.HostAccess).Ret),
        ["alloc reusing a parked blob_id"] = s =>
        {
            var req = Alloc(4096, blobId: 777);
            Assert.Equal(0, s.Raw.One(CcmdFamily.Memory, req).Ret);
            Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Memory, req).Ret);
        },
        ["free of an unknown VA"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, Free(0x1234_5000, 4096, 0)).Ret),
        // G-new frees by GEM close (detach + unref); MEMORY/FREE is refused outright.
        ["double free"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Memory, Free(a.Va, 4096, a.Blob!.ResId)).Ret);
            s.Victim.Release(a.Blob!);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, s.Gpu.Command(GpuRequests.Unref(a.Blob!.ResId)).Type);
            Assert.NotEqual(0, s.Victim.MapToGpuNodes(a.Va, 4096, [1], a.Blob!.ResId).Ret);
        },
        ["free of another context's allocation"] = s =>
        {
            var other = s.Bystander.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, Free(other.Va, 4096, other.Blob!.ResId)).Ret);
            s.Bystander.Release(other.Blob!);
        },
        ["map to GPU outside the context slice"] = s =>
        {
            var m = new CcmdMemoryReq { type = (uint)MemoryType.MapMemToGpu };
            m.MemoryAddress = 0x7fff_0000_0000;
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m).Ret);
        },
        ["map to GPU inside another context's slice"] = s =>
        {
            var m = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes };
            m.map_to_GPU_nodes_args = new MemoryReqMapToGPUNodesArgs { MemoryAddress = s.Bystander.VmStart + 0x10000, MemorySizeInBytes = 4096, NumberOfNodes = 1 };
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m, payload: [1, 0, 0, 0, 0, 0, 0, 0]).Ret);
        },
        ["unmap of a VA never mapped"] = s => Assert.NotEqual(0, s.Victim.UnmapFromGpu(s.Victim.VmStart + 0x100000).Ret),
        ["register userptr outside guest RAM"] = s =>
        {
            var r = s.Victim.RegisterUserptr([(0xF_0000_0000, 4096)]);
            Assert.NotEqual(VIRTIO_GPU_RESP_OK_NODATA, r.BlobStatus);
        },
        ["deregister of an unknown VA"] = s =>
        {
            var m = new CcmdMemoryReq { type = (uint)MemoryType.DeregMem };
            m.MemoryAddress = 0xdead_b000;
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m).Ret);
        },
        ["SVM attributes with a huge count"] = s =>
        {
            var m = new CcmdMemoryReq { type = (uint)MemoryType.SvmSetAttr };
            BinaryPrimitives.WriteUInt64LittleEndian(RawCcmd.Request(m), 0);
            m.svm_attr_args.start_addr = s.Victim.VmStart;
            m.svm_attr_args.size = 4096;
            m.svm_attr_args.nattr = 0xFFFF_FFFF;
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m).Ret);
        },

        // ---------------------------------------------------------------- queues
        ["destroy of an unknown queue"] = s => Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, new CcmdQueueReq { type = (uint)QueueType.Destroy, QueueId = 0xdead }).Ret),
        ["queue create with a bogus ring address"] = s =>
        {
            var rw = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = QueueCreate(ring: 0x1000, ringSize: 4096, rw.Va, ringRes: rw.Blob!.ResId, rwRes: rw.Blob.ResId);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },
        ["queue create with ring size 0"] = s =>
        {
            var ring = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = QueueCreate(ring.Va, 0, ring.Va, ring.Blob!.ResId, ring.Blob.ResId);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },
        ["queue create with a ring larger than its allocation"] = s =>
        {
            var ring = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = QueueCreate(ring.Va, 1UL << 30, ring.Va, ring.Blob!.ResId, ring.Blob.ResId);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },
        ["queue create naming unknown resources"] = s =>
        {
            var ring = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = QueueCreate(ring.Va, 4096, ring.Va, 0xBAD, 0xBAD);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },
        ["queue create with the ring in another context"] = s =>
        {
            var rw = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = QueueCreate(s.Bystander.VmStart, 4096, rw.Va, rw.Blob!.ResId, rw.Blob.ResId);
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },
        ["free of memory backing a live queue"] = s =>
        {
            var ring = s.Victim.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
            var rw = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var q = s.Victim.CreateQueue(1, 21, ring, 64 << 10, rw, rw.Va + 0x38, rw.Va + 0x80);
            Assert.Equal(0, q.Ret);
            // The guest frees the ring under the live queue: refused, or deferred until the queue is gone — never a
            // dangling queue. Either way the queue still answers GET_INFO afterwards.
            s.Victim.Release(ring.Blob!); // GEM close of the ring while the queue runs
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, s.Gpu.Command(GpuRequests.Unref(ring.Blob!.ResId)).Type);
            var info = s.Raw.One(CcmdFamily.Queue, new CcmdQueueReq { type = (uint)QueueType.GetInfo, QueueId = q.Resource.r.QueueId, res_id = q.QueueBlob!.ResId });
            Assert.NotEqual(unchecked((int)0xEEEEEEEE), info.Ret);
        },
        ["CU mask with a huge count"] = s =>
        {
            var q = new CcmdQueueReq { type = (uint)QueueType.SetCuMask, CUMaskCount = 0xFFFF_FFFF };
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Queue, q).Ret);
        },

        // ---------------------------------------------------------------- events
        ["wait on events with an absurd timeout"] = s =>
        {
            var e = new CcmdEventReq { type = (uint)EventType.WaitOnMultiEvents };
            e.wait_on_multi_args.NumEvents = 0xFFFF_FFFF;
            e.wait_on_multi_args.Milliseconds = 0xFFFF_FFFF;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(ENOSYS, s.Raw.One(CcmdFamily.Event, e).Ret);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        },
        ["set of an unknown event"] = s => Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Event, new CcmdEventReq { type = (uint)EventType.Set, event_hanele = 0xdead, res_id = 0xBAD }).Ret),
        ["set of another context's event"] = s =>
        {
            var other = s.Bystander.CreateEvent(node: 1);
            Assert.Equal(0, other.Ret);
            Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Event, new CcmdEventReq { type = (uint)EventType.Set, event_hanele = other.Event.event_handle, res_id = other.Blob!.ResId }).Ret);
            s.Bystander.Release(other.Blob!);
        },
        ["event destroyed twice"] = s =>
        {
            var ev = s.Victim.CreateEvent(node: 1);
            var d = new CcmdEventReq { type = (uint)EventType.Destroy, event_hanele = ev.Event.event_handle, res_id = ev.Blob!.ResId };
            Assert.Equal(0, s.Raw.One(CcmdFamily.Event, d).Ret);
            Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Event, d).Ret);
        },
        ["event of type 99"] = s => Assert.Equal(EINVAL, s.Victim.CreateEvent(eventType: 99, node: 1).Ret),
        ["event on node 99"] = s => Assert.Equal((int)HsaStatus.InvalidNodeUnit, s.Victim.CreateEvent(node: 99).Ret),
        ["trap handler outside any allocation"] = s =>
        {
            var e = new CcmdEventReq { type = (uint)EventType.SetTrap };
            e.set_trap_handler_args = new EventSetTrapHandlerArgs { NodeId = 1, TrapHandlerBaseAddress = 0x1000, TrapHandlerSizeInBytes = 4096 };
            Assert.Equal(EINVAL, s.Raw.One(CcmdFamily.Event, e).Ret);
        },

        // ---------------------------------------------------------------- blobs and resources
        ["CREATE_BLOB of a blob_id never parked"] = s =>
        {
            s.Victim.CreateBlob(0x5151, 4096, 0, out var st);
            Assert.NotEqual(VIRTIO_GPU_RESP_OK_NODATA, st);
        },
        ["CREATE_BLOB reusing a consumed blob_id"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            s.Victim.CreateBlob(a.Blob!.BlobId, 4096, 0, out var st);
            Assert.NotEqual(VIRTIO_GPU_RESP_OK_NODATA, st);
        },
        ["CREATE_BLOB with a res_id already in use"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var r = s.Gpu.Command(GpuRequests.CreateBlob(s.Victim.CtxId, a.Blob!.ResId, 2, 0, 0x6262, 4096));
            Assert.False(r.Ok);
        },
        ["CREATE_BLOB of the shmem twice"] = s =>
        {
            uint res = s.Gpu.NextResourceId();
            var r = s.Gpu.Command(GpuRequests.CreateBlob(s.Victim.CtxId, res, 2, 1, 0, 80 * 4096));
            if (r.Ok) s.LooseResources.Add(res);
            Assert.False(r.Ok);
        },
        ["CREATE_BLOB with too many entries"] = s =>
        {
            var req = GpuRequests.CreateBlob(s.Victim.CtxId, s.Gpu.NextResourceId(), 3, 4, 0x7373, 4096);
            BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(36), 0x0100_0000);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, s.Gpu.Command(req).Type);
        },
        ["resource attached to the wrong context"] = s =>
        {
            var other = s.Bystander.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
            var r = s.Gpu.Command(GpuRequests.CtxAttach(s.Victim.CtxId, other.Blob!.ResId));
            // Attaching may be accepted (the kernel attaches imported BOs), but it gives the victim no handle on it.
            var m = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes, res_id = other.Blob!.ResId };
            m.map_to_GPU_nodes_args = new MemoryReqMapToGPUNodesArgs { MemoryAddress = other.Va, MemorySizeInBytes = 4096, NumberOfNodes = 1 };
            Assert.NotEqual(0, s.Raw.One(CcmdFamily.Memory, m, payload: [1, 0, 0, 0, 0, 0, 0, 0]).Ret);
            if (r.Ok) s.Gpu.Command(GpuRequests.CtxDetach(s.Victim.CtxId, other.Blob!.ResId));
            s.Bystander.Release(other.Blob!);
        },
        ["MAP_BLOB of a non-mappable resource"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, 0);
            Assert.NotEqual(VIRTIO_GPU_RESP_OK_MAP_INFO, s.Gpu.Command(GpuRequests.MapBlob(s.Victim.CtxId, a.Blob!.ResId, s.Gpu.AllocateShm(4096))).Type);
        },
        ["MAP_BLOB outside the host-visible window"] = s =>
        {
            var a = s.Victim.AllocMemory(1, 4096, 0);
            var r = s.Gpu.Command(GpuRequests.MapBlob(s.Victim.CtxId, s.Victim.Shmem!.ResId, ulong.MaxValue - 4095));
            Assert.NotEqual(VIRTIO_GPU_RESP_OK_MAP_INFO, r.Type);
        },
        ["UNREF of an unknown resource"] = s => Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, s.Gpu.Command(GpuRequests.Unref(0xBAD_BAD)).Type),
        ["DETACH of an unknown resource"] = s => Assert.NotEqual(VIRTIO_GPU_RESP_ERR_UNSPEC + 100, s.Gpu.Command(GpuRequests.CtxDetach(s.Victim.CtxId, 0xBAD_BAD)).Type),

        // ---------------------------------------------------------------- contexts and ids
        ["SUBMIT_3D to an unknown context"] = s => Assert.NotEqual(VIRTIO_GPU_RESP_OK_NODATA, s.Gpu.Command(GpuRequests.Submit3D(0xBAD, new byte[16])).Type),
        ["SUBMIT_3D before the shmem exists"] = s =>
        {
            var bare = new RocmProcess(s.Gpu, "bare");
            bare.CreateContextOnly();
            Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, s.Gpu.Command(GpuRequests.Submit3D(bare.CtxId, RawCcmd.Stamp(RawCcmd.Request(GetVer), 2, CcmdQueryInfoReq.Size, 1, 0))).Type);
            Assert.True(bare.DestroyContextNow().Ok);
        },
        // Same id and capset again is idempotent (virglrenderer); it must not replace or duplicate the live context.
        ["CTX_CREATE of a live context id"] = s =>
        {
            Assert.True(s.Gpu.Command(GpuRequests.CtxCreate(s.Victim.CtxId, 8, "dup")).Ok);
            Assert.Equal(0, s.Raw.One(CcmdFamily.QueryInfo, GetVer).Ret); // same shmem, same context
        },
        ["CTX_CREATE with another capset"] = s =>
        {
            uint id = s.Gpu.NextContextId();
            var r = s.Gpu.Command(GpuRequests.CtxCreate(id, 3, "virgl"));
            if (r.Ok) s.Gpu.Command(GpuRequests.CtxDestroy(id));
            Assert.False(r.Ok);
        },
        ["CTX_DESTROY of an unknown context"] = s => Assert.NotEqual(VIRTIO_GPU_RESP_OK_MAP_INFO, s.Gpu.Command(GpuRequests.CtxDestroy(0xBAD)).Type),
        ["context id of another VM"] = s =>
        {
            using var vmm2 = TestVmm.Connect(s.Daemon.SocketPath, new TestVmmOptions { Timeout = TimeSpan.FromSeconds(10) });
            var gpu2 = new GuestGpu(vmm2);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, gpu2.Command(GpuRequests.Submit3D(s.Victim.CtxId, new byte[16])).Type);
            Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, gpu2.Command(GpuRequests.Unref(s.Victim.Shmem!.ResId)).Type);
        },
        ["GET_CAPSET_INFO index 5"] = s => Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, s.Gpu.Command(GpuRequests.GetCapsetInfo(5)).Type),
        ["GET_CAPSET of capset 3"] = s => Assert.False(s.Gpu.Command(GpuRequests.GetCapset(3, 0)).Ok),
        ["request shorter than the control header"] = s => Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, s.Gpu.Command(new byte[8]).Type),
        ["process exits with everything still attached"] = s =>
        {
            s.Victim.AllocMemory(1, 8192, HsaMemFlags.HostAccess);
            s.Victim.CreateEvent(node: 1);
            Assert.True(s.Victim.DestroyContextNow().Ok);
            foreach (var b in s.Victim.LiveBlobs) s.LooseResources.Add(b.ResId);
            s.VictimGone = true;
        },

        // ---------------------------------------------------------------- rings and shared memory
        ["descriptor loop on the control queue"] = s => BadChain(s, (ring, d0, d1) =>
        {
            ring.WriteDescriptor(d0, 0x1000, 24, 1 /* NEXT */, d1);
            ring.WriteDescriptor(d1, 0x1000, 24, 1 /* NEXT */, d0);
        }),
        ["descriptor outside guest RAM"] = s => BadChain(s, (ring, d0, _) => ring.WriteDescriptor(d0, 0xF_FFFF_0000, 24, 0, 0)),
        ["guest rewrites the shmem header under us"] = s =>
        {
            _ = s.Raw.RspMemOffset; // the guest learnt it at start-up
            var hdr = new byte[16];
            Array.Fill(hdr, (byte)0xFF);
            s.Gpu.Window.Write(s.Raw.ShmOffset, hdr); // seqno, rsp_mem_offset, async_error, faults: garbage
            var a = s.Raw.One(CcmdFamily.QueryInfo, GetVer);
            Assert.Equal(0, a.Ret);
            Assert.Equal(a.Seqno, a.Published);
        },
        ["guest changes its slots while we write them"] = s =>
        {
            using var stop = new CancellationTokenSource();
            var scribbler = Task.Run(() =>
            {
                var junk = new byte[4096];
                var rng = new Random(1);
                while (!stop.IsCancellationRequested)
                {
                    rng.NextBytes(junk);
                    s.Gpu.Window.Write(s.Raw.ShmOffset + 16 + (ulong)s.Raw.SlotOffset, junk);
                }
            });
            try
            {
                for (int i = 0; i < 50; i++)
                {
                    uint seq = s.Raw.NextSeqno();
                    var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), 2, CcmdQueryInfoReq.Size, seq, s.Raw.SlotOffset), s.Raw.SlotOffset, seq);
                    Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
                }
            }
            finally
            {
                stop.Cancel();
                scribbler.Wait(TimeSpan.FromSeconds(5));
            }
        },
    };

    // ---------------------------------------------------------------- helpers

    private static void Framed(Scenario s, uint len, int expectRet)
    {
        uint seq = s.Raw.NextSeqno();
        s.Raw.Prewrite(s.Raw.SlotOffset, 256);
        var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, len, seq, s.Raw.SlotOffset), s.Raw.SlotOffset, seq);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
        Assert.Equal(seq, a.Published);
        Assert.Equal(expectRet, a.Ret);
        Assert.Equal(-1, a.Slot.AsSpan(8, 64).IndexOfAnyExcept((byte)0)); // error answers zero the slot
    }

    private static void OutsideSlot(Scenario s, uint rspOff)
    {
        uint seq = s.Raw.NextSeqno();
        var a = s.Raw.Submit(RawCcmd.Stamp(RawCcmd.Request(GetVer), (uint)CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, seq, rspOff), s.Raw.SlotOffset, seq);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, a.Status);
        Assert.Equal(seq, a.Published);
    }

    private static void Family(Scenario s, uint cmd)
    {
        uint seq = s.Raw.NextSeqno();
        s.Raw.Prewrite(s.Raw.SlotOffset, 256);
        var a = s.Raw.Submit(RawCcmd.Stamp(new byte[32], cmd, 32, seq, s.Raw.SlotOffset), s.Raw.SlotOffset, seq);
        Assert.Equal(seq, a.Published);
        Assert.Equal(EINVAL, a.Ret);
    }

    private static CcmdQueryInfoReq Query(QueryType type, uint node, uint count, uint count2 = 0)
    {
        var q = new CcmdQueryInfoReq { type = (uint)type };
        var b = RawCcmd.Request(q);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), node);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), count);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), count2);
        return System.Runtime.InteropServices.MemoryMarshal.Read<CcmdQueryInfoReq>(b);
    }

    private static CcmdMemoryReq Alloc(ulong size, ulong blobId)
    {
        var m = new CcmdMemoryReq { type = (uint)MemoryType.Alloc, blob_id = blobId };
        m.alloc_args = new MemoryReqAllocArgs { PreferredNode = 1, MemFlags = new HsaMemFlags(HsaMemFlags.HostAccess), SizeInBytes = size };
        return m;
    }

    private static CcmdMemoryReq Free(ulong va, ulong size, uint resId)
    {
        var m = new CcmdMemoryReq { type = (uint)MemoryType.Free, res_id = resId };
        m.free_args = new MemoryReqFreeArgs { MemoryAddress = va, SizeInBytes = size };
        return m;
    }

    private static CcmdQueueReq QueueCreate(ulong ring, ulong ringSize, ulong rw, uint ringRes, uint rwRes) => new()
    {
        type = (uint)QueueType.Create,
        create_queue_args = new QueueReqCreate
        {
            NodeId = 1, Type = 21, QueuePercentage = 100, SdmaEngineId = 0xFFFF_FFFF,
            QueueAddress = ring, QueueSizeInBytes = ringSize, Queue_write_ptr_aql = rw + 0x38, Queue_read_ptr_aql = rw + 0x80,
        },
        blob_id = 0x9000, doorbell_blob_id = 0x9001, res_id = rwRes, queue_mem_res_id = ringRes,
    };

    /// <summary>Publish a hand-made bad chain on the control queue, then a good command: the bad one is skipped, the good one answered.</summary>
    private static void BadChain(Scenario s, Action<TestRing, ushort, ushort> write)
    {
        var ring = s.Vmm.Ring(0);
        ushort d0 = ring.TakeDescriptor(), d1 = ring.TakeDescriptor();
        write(ring, d0, d1);
        ring.PublishRaw(d0);
        s.Vmm.Kick(0);
        var skipped = s.Vmm.WaitUsed(0);
        Assert.Equal(d0, skipped.Token);
        Assert.Equal(0u, skipped.Written); // skipped: returned unused, nothing written
        var r = s.Gpu.Command(GpuRequests.GetCapsetInfo(0));
        Assert.Equal(VIRTIO_GPU_RESP_OK_CAPSET_INFO, r.Type);
    }
}
