using System.Diagnostics;
using System.Runtime.InteropServices;
using VhsaKmt.Bench.Guest;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Stats;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Bench.Workloads;

/// <summary>
/// Real commands on the simulated KFD, each timed as the guest library sees it (every ccmd and virtio-gpu
/// command the operation sends, PROTOCOL.md §2.6): QUERY node properties; EVENT set / query state and
/// create+release; MEMORY alloc + blob + map to GPU + unmap + release by detach/unref; AQL QUEUE
/// create (+ queue blob) and destroy by detach/unref. Between "begin"/"end" phase lines the bench reads
/// the daemon's allocation counter.
/// </summary>
public sealed class RealCommandsWorkload(ClientOptions options)
{
    private const uint GpuNode = 1;
    private const uint HsaEventTypeSignal = 0;
    private const uint HsaQueueTypeComputeAql = 21;
    private const ulong MemoryBytes = 64 << 10;
    private const ulong QueueBytes = 64 << 10;

    public int Run()
    {
        var phases = new ClientPhases(options.Sync);
        using var vm = BenchVm.Connect(options.Socket, 0, 64);
        var ctx = new BenchContext(vm, 1, 1, 4096);
        ctx.Open();
        var g = new GuestOps(ctx);
        var (eventHandle, eventRes) = g.CreateEvent();
        var (ringVa, ringRes) = g.AllocMemory(QueueBytes, map: false);
        var (rwVa, rwRes) = g.AllocMemory(4096, map: false);
        // The first queue on a node carries the doorbell blob (then mapped for the context's life); later ones do not.
        uint doorbellRes = g.CreateQueue(ringVa, ringRes, rwVa, rwRes, withDoorbell: true, out uint firstQueue);
        g.Release(firstQueue);

        var results = new List<CommandLatency>
        {
            Measure(phases, "QUERY GET_NODE_PROP", () => g.NodeProperties(GpuNode)),
            Measure(phases, "EVENT SET", () => g.EventCall(EventType.Set, eventHandle, eventRes)),
            Measure(phases, "EVENT QUERY_STATE", () => g.EventCall(EventType.QueryState, eventHandle, eventRes)),
            Measure(phases, "EVENT create + release", () => { var (_, res) = g.CreateEvent(); g.Release(res); }),
            Measure(phases, "MEMORY alloc + map + unmap + release", () =>
            {
                var (va, res) = g.AllocMemory(MemoryBytes, map: true);
                g.UnmapFromGpu(va);
                g.Release(res);
            }),
            Measure(phases, "QUEUE create + destroy (AQL)", () =>
            {
                g.CreateQueue(ringVa, ringRes, rwVa, rwRes, withDoorbell: false, out uint queueRes);
                g.Release(queueRes);
            }),
        };

        g.Release(eventRes);
        g.Release(rwRes);
        g.Release(ringRes);
        g.Release(doorbellRes);
        ctx.Close();
        BenchExecutable.EmitResult(new RealCommandsResult(options.Label, results));
        return 0;
    }

    private CommandLatency Measure(ClientPhases phases, string name, Action op)
    {
        int warm = Math.Max(10, options.Samples / 10);
        long warmUntil = Stopwatch.GetTimestamp() + options.WarmupMs * Stopwatch.Frequency / 1000;
        for (int i = 0; i < warm && Stopwatch.GetTimestamp() < warmUntil; i++) op();
        var recorder = new LatencyRecorder(options.Samples);
        phases.Reached($"begin {name}");
        long deadline = Stopwatch.GetTimestamp() + options.MeasureMs * Stopwatch.Frequency / 1000;
        while (!recorder.IsFull && Stopwatch.GetTimestamp() < deadline)
        {
            long t0 = Stopwatch.GetTimestamp();
            op();
            recorder.Record(Stopwatch.GetTimestamp() - t0);
        }
        phases.Reached($"end {recorder.Count} {name}");
        return new CommandLatency(name, recorder.Summarize());
    }

    /// <summary>The guest library's operations, encoded as G-new encodes them.</summary>
    private sealed class GuestOps(BenchContext ctx)
    {
        private readonly BenchVm _vm = ctx.Vm;

        public void NodeProperties(uint node)
        {
            var req = new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = node };
            Check(ctx.Call(Bytes(in req), CcmdFamily.QueryInfo, CcmdQueryInfoRsp.Size), "GET_NODE_PROP");
        }

        public (ulong Handle, uint Res) CreateEvent()
        {
            uint blob = ctx.NextBlobId();
            var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = blob };
            req.create_args.EventDesc.EventType = HsaEventTypeSignal;
            req.create_args.EventDesc.NodeId = 0;
            var rsp = Check(ctx.Call(Bytes(in req), CcmdFamily.Event, CcmdEventRsp.Size), "EVENT CREATE");
            ulong handle = MemoryMarshal.Read<vHsaEvent>(rsp[8..]).event_handle;
            uint res = Blob(VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, blob, 4096);
            return (handle, res);
        }

        public void EventCall(EventType type, ulong handle, uint res)
        {
            var req = new CcmdEventReq { type = (uint)type, event_hanele = handle, res_id = res };
            Check(ctx.Call(Bytes(in req), CcmdFamily.Event, CcmdEventRsp.Size), $"EVENT {type}");
        }

        /// <summary>VRAM on the GPU node without host access: blob flags 0, no MAP_BLOB (§2.6); optionally mapped to the GPU.</summary>
        public (ulong Va, uint Res) AllocMemory(ulong size, bool map)
        {
            uint blob = ctx.NextBlobId();
            var req = new CcmdMemoryReq { type = (uint)MemoryType.Alloc, blob_id = blob };
            req.alloc_args.PreferredNode = GpuNode;
            req.alloc_args.MemFlags = new HsaMemFlags(HsaMemFlags.NonPaged | HsaMemFlags.NoSubstitute);
            req.alloc_args.SizeInBytes = size;
            var rsp = Check(ctx.Call(Bytes(in req), CcmdFamily.Memory, CcmdMemoryRsp.Size), "MEMORY ALLOC");
            ulong va = MemoryMarshal.Read<ulong>(rsp[8..]);
            uint res = Blob(VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, blob, size);
            if (map)
            {
                var m = new CcmdMemoryReq { type = (uint)MemoryType.MapToGpuNodes, res_id = res };
                m.map_to_GPU_nodes_args.MemoryAddress = va;
                m.map_to_GPU_nodes_args.MemorySizeInBytes = size;
                m.map_to_GPU_nodes_args.NumberOfNodes = 1;
                Span<byte> withNodes = stackalloc byte[CcmdMemoryReq.Size + 8];
                withNodes.Clear();
                Bytes(in m).CopyTo(withNodes);
                MemoryMarshal.Write(withNodes[CcmdMemoryReq.Size..], GpuNode);
                Check(ctx.Call(withNodes[..(CcmdMemoryReq.Size + 4)], CcmdFamily.Memory, CcmdMemoryRsp.Size), "MAP_TO_GPU_NODES");
            }
            return (va, res);
        }

        public void UnmapFromGpu(ulong va)
        {
            var req = new CcmdMemoryReq { type = (uint)MemoryType.UnmapToGpu, MemoryAddress = va };
            Check(ctx.Call(Bytes(in req), CcmdFamily.Memory, CcmdMemoryRsp.Size), "UNMAP_TO_GPU");
        }

        /// <summary>AQL queue on the GPU node over pre-allocated ring and r/w-pointer memory; returns the doorbell blob's res (or 0).</summary>
        public uint CreateQueue(ulong ringVa, uint ringRes, ulong rwVa, uint rwRes, bool withDoorbell, out uint queueRes)
        {
            uint blob = ctx.NextBlobId();
            uint doorbellBlob = withDoorbell ? ctx.NextBlobId() : 0;
            var req = new CcmdQueueReq
            {
                type = (uint)QueueType.Create, blob_id = blob, doorbell_blob_id = doorbellBlob, res_id = rwRes, queue_mem_res_id = ringRes,
            };
            req.create_queue_args.NodeId = GpuNode;
            req.create_queue_args.Type = HsaQueueTypeComputeAql;
            req.create_queue_args.QueuePercentage = 100;
            req.create_queue_args.SdmaEngineId = 0xFFFF_FFFF;
            req.create_queue_args.QueueAddress = ringVa;
            req.create_queue_args.QueueSizeInBytes = QueueBytes;
            req.create_queue_args.Queue_write_ptr_aql = rwVa;
            req.create_queue_args.Queue_read_ptr_aql = rwVa + 8;
            var rsp = Check(ctx.Call(Bytes(in req), CcmdFamily.Queue, CcmdQueueRsp.Size), "QUEUE CREATE");
            uint doorbellRes = 0;
            if (withDoorbell)
            {
                var vq = MemoryMarshal.Read<vHsaQueueResource>(rsp[8..]);
                if (vq.r.QueueId == 0) throw new InvalidDataException("QUEUE CREATE returned QueueId 0");
                doorbellRes = Blob(VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, doorbellBlob, 0x2000, mapIt: true);
            }
            queueRes = Blob(VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, blob, QueueBytes);
            return doorbellRes;
        }

        /// <summary>GEM close: CTX_DETACH_RESOURCE then RESOURCE_UNREF (the guest never sends FREE/DESTROY ccmds).</summary>
        public void Release(uint res)
        {
            _vm.Expect(GpuRequests.CtxDetach(ctx.CtxId, res), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_DETACH");
            _vm.Expect(GpuRequests.Unref(res), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "RESOURCE_UNREF");
        }

        private uint Blob(uint blobMem, uint flags, uint blobId, ulong size, bool mapIt = false)
        {
            uint res = _vm.NextResourceId();
            _vm.Expect(GpuRequests.CreateBlob(ctx.CtxId, res, blobMem, flags, blobId, size), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CREATE_BLOB");
            if (mapIt) _vm.Expect(GpuRequests.MapBlob(ctx.CtxId, res, _vm.NextWindowOffset(size)), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_MAP_INFO, "MAP_BLOB");
            _vm.Expect(GpuRequests.CtxAttach(ctx.CtxId, res), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_ATTACH");
            return res;
        }

        private static ReadOnlySpan<byte> Check(ReadOnlySpan<byte> rsp, string what)
        {
            int ret = MemoryMarshal.Read<int>(rsp[4..]);
            if (ret != 0) throw new InvalidOperationException($"{what} answered ret {ret}");
            return rsp;
        }

        private static ReadOnlySpan<byte> Bytes<T>(in T value) where T : unmanaged =>
            MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();
    }
}
