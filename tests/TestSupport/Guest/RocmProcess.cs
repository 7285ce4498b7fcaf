using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.TestSupport.Guest;

/// <summary>Answer of one ccmd: the SUBMIT_3D status, the response <c>ret</c> and the guest's response slot.</summary>
public sealed record CcmdResult(VirtioGpuCtrlType SubmitStatus, int Ret, byte[] Slot)
{
    public T Read<T>() where T : unmanaged => MemoryMarshal.Read<T>(Slot);
    public T ReadAt<T>(int offset) where T : unmanaged => MemoryMarshal.Read<T>(Slot.AsSpan(offset));
}

/// <summary>A blob the guest created: its res_id, blob_id and, when mapped, its offset in the host-visible region.</summary>
public sealed record GuestBlob(uint ResId, ulong BlobId, ulong Size, ulong? ShmOffset);

public sealed record GuestAllocation(int Ret, ulong Va, GuestBlob? Blob, VirtioGpuCtrlType BlobStatus);
public sealed record GuestEvent(int Ret, vHsaEvent Event, GuestBlob? Blob, VirtioGpuCtrlType BlobStatus);
public sealed record GuestQueue(int Ret, vHsaQueueResource Resource, GuestBlob? QueueBlob, GuestBlob? DoorbellBlob, GuestBlob? RwBlob);
public sealed record GuestUserptr(GuestBlob Blob, VirtioGpuCtrlType BlobStatus, int MapRet, ulong HostVa, uint Bytes, int RegisterRet);

/// <summary>
/// One ROCm guest process (one virtio-gpu context), encoding every ccmd as ROCm's virtio libhsakmt (G-new) does
/// (PROTOCOL.md §1.1, §2.6, §2.7, §3.4): capset check, CTX_CREATE with context_init 8, an 80-page HOST3D MAPPABLE
/// shmem blob (blob_id 0) mapped and attached, response slots bump-allocated with a pre-written len, seqno +1 per
/// ccmd, one ccmd per SUBMIT_3D on ring 0 with FENCE|INFO_RING_IDX, blob ids from 2, and objects released by
/// CTX_DETACH_RESOURCE + RESOURCE_UNREF (never FREE ccmds).
/// </summary>
public sealed class RocmProcess
{
    public const int ShmemPages = 80;
    public const ulong PageSize = 4096;
    private static readonly TimeSpan SeqnoTimeout = TimeSpan.FromSeconds(5);

    private readonly GuestGpu _gpu;
    private readonly List<GuestBlob> _live = new();
    private uint _seqno;
    private int _rspNext;
    private uint _blobCounter = 1;
    private uint _rspMemOffset;

    public RocmProcess(GuestGpu gpu, string name)
    {
        _gpu = gpu;
        Name = name;
    }

    public string Name { get; }
    public uint CtxId { get; private set; }
    public GuestBlob? Shmem { get; private set; }
    public ulong VmStart { get; private set; }
    public ulong VmSize { get; private set; }
    public uint LastSeqno => _seqno;
    public int AreaSize => (int)(ShmemPages * PageSize) - (int)_rspMemOffset;

    /// <summary>Blobs created and not yet released.</summary>
    public IReadOnlyList<GuestBlob> LiveBlobs { get { lock (_live) return _live.ToList(); } }

    // ------------------------------------------------------------------ start-up (PROTOCOL.md §1.1)

    /// <summary>Capset check, CTX_CREATE, shmem blob + MAP_BLOB + ATTACH. Throws when the device refuses.</summary>
    public void Start()
    {
        if (!_gpu.CapsetChecked && _gpu.Capset().ContextType != VirtioGpuConst.VIRTGPU_HSAKMT_CONTEXT_AMDGPU)
            throw new InvalidOperationException("capset 8 context_type is not 1: G-new would skip this device");
        if (CtxId == 0) CreateContextOnly();
        var shmem = CreateBlob(0, ShmemPages * PageSize, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, out var status);
        if (status != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA || shmem.ShmOffset is null)
            throw new InvalidOperationException($"shmem blob: {status}");
        Shmem = shmem;
        _rspMemOffset = BinaryPrimitives.ReadUInt32LittleEndian(_gpu.Window.Read(shmem.ShmOffset.Value + 4, 4));
        if (_rspMemOffset < 16 || _rspMemOffset % 8 != 0) throw new InvalidOperationException($"rsp_mem_offset {_rspMemOffset}");
    }

    /// <summary>Only CTX_CREATE (no shmem): for the submit-before-shmem case.</summary>
    public void CreateContextOnly()
    {
        CtxId = _gpu.NextContextId();
        Expect(_gpu.Command(GpuRequests.CtxCreate(CtxId, VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT, Name)), "CTX_CREATE");
    }

    // ------------------------------------------------------------------ blobs

    public ulong NextBlobId() => ++_blobCounter;

    /// <summary>CREATE_BLOB (HOST3D) for an object parked under <paramref name="blobId"/>, MAP_BLOB if mappable, then ATTACH.</summary>
    public GuestBlob CreateBlob(ulong blobId, ulong size, uint flags, out VirtioGpuCtrlType status) =>
        CreateBlob(blobId, size, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, flags, [], out status);

    public GuestBlob CreateBlob(ulong blobId, ulong size, uint blobMem, uint flags, IReadOnlyList<(ulong, uint)> entries, out VirtioGpuCtrlType status)
    {
        // The kernel rounds HOST3D blob sizes up to the page size.
        if (blobMem == VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D) size = (size + PageSize - 1) & ~(PageSize - 1);
        uint res = _gpu.NextResourceId();
        var create = _gpu.Command(GpuRequests.CreateBlob(CtxId, res, blobMem, flags, blobId, size, entries));
        status = create.Type;
        if (!create.Ok) return new GuestBlob(res, blobId, size, null); // the kernel drops the res_id (no UNREF of a failed create)

        ulong? shm = null;
        if ((flags & VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) != 0 && blobMem == VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D)
        {
            ulong offset = _gpu.AllocateShm(size);
            var map = _gpu.Command(GpuRequests.MapBlob(CtxId, res, offset));
            if (map.Type == VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_MAP_INFO) shm = offset;
            else status = map.Type;
        }
        var attach = _gpu.Command(GpuRequests.CtxAttach(CtxId, res));
        if (!attach.Ok) status = attach.Type;
        var blob = new GuestBlob(res, blobId, size, shm);
        lock (_live) _live.Add(blob);
        return blob;
    }

    /// <summary>GEM close of the last handle: CTX_DETACH_RESOURCE, UNMAP_BLOB if mapped, RESOURCE_UNREF.</summary>
    public void Release(GuestBlob blob)
    {
        Expect(_gpu.Command(GpuRequests.CtxDetach(CtxId, blob.ResId)), "CTX_DETACH_RESOURCE");
        if (blob.ShmOffset is not null) Expect(_gpu.Command(GpuRequests.UnmapBlob(CtxId, blob.ResId)), "RESOURCE_UNMAP_BLOB");
        Expect(_gpu.Command(GpuRequests.Unref(blob.ResId)), "RESOURCE_UNREF");
        lock (_live) _live.Remove(blob);
    }

    /// <summary>Process exit: every handle closed (reverse creation order), then CTX_DESTROY.</summary>
    public void Exit()
    {
        foreach (var b in LiveBlobs.AsEnumerable().Reverse()) Release(b);
        Shmem = null;
        Expect(_gpu.Command(GpuRequests.CtxDestroy(CtxId)), "CTX_DESTROY");
    }

    /// <summary>CTX_DESTROY with everything still attached (a crashed process whose kernel cleanup lags).</summary>
    public ControlResponse DestroyContextNow() => _gpu.Command(GpuRequests.CtxDestroy(CtxId));

    // ------------------------------------------------------------------ ccmd transport (PROTOCOL.md §3.4)

    /// <summary>
    /// Frame one ccmd (<paramref name="request"/> starts with a 16-byte header whose cmd/len this fills), take a
    /// response slot of <paramref name="rspSize"/>, SUBMIT_3D on ring 0 with a fence, then wait for seqno.
    /// </summary>
    public CcmdResult Submit(CcmdFamily family, byte[] request, int rspSize)
    {
        if (Shmem?.ShmOffset is not { } shm) return SubmitWithoutShmem(family, request);
        int size = (rspSize + 7) & ~7;
        if (_rspNext + size >= AreaSize) _rspNext = 0; // the guest's wrap rule
        int off = _rspNext;
        _rspNext += size;
        ulong slotAt = shm + _rspMemOffset + (ulong)off;
        var prewrite = new byte[size];
        prewrite.AsSpan().Fill(0xEE); // stale bytes: a host error answer must clear them
        BinaryPrimitives.WriteUInt32LittleEndian(prewrite, (uint)size);
        _gpu.Window.Write(slotAt, prewrite);

        uint seqno = ++_seqno;
        var hdr = new CcmdReqHeader { cmd = (uint)family, len = (uint)request.Length, seqno = seqno, rsp_off = (uint)off };
        MemoryMarshal.Write(request, in hdr);
        var r = _gpu.Command(GpuRequests.Submit3D(CtxId, request, GpuRequests.FenceAndRing, _gpu.NextFence(), 0));
        if (r.Type != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA) return new CcmdResult(r.Type, int.MinValue, []);

        var sw = Stopwatch.StartNew();
        while ((int)(PublishedSeqno - seqno) < 0)
        {
            if (sw.Elapsed > SeqnoTimeout) throw new TimeoutException($"seqno {seqno} not published (shmem has {PublishedSeqno})");
            Thread.Yield();
        }
        var slot = _gpu.Window.Read(slotAt, size);
        return new CcmdResult(r.Type, BinaryPrimitives.ReadInt32LittleEndian(slot.AsSpan(4)), slot);
    }

    private CcmdResult SubmitWithoutShmem(CcmdFamily family, byte[] request)
    {
        var hdr = new CcmdReqHeader { cmd = (uint)family, len = (uint)request.Length, seqno = ++_seqno, rsp_off = 0 };
        MemoryMarshal.Write(request, in hdr);
        var r = _gpu.Command(GpuRequests.Submit3D(CtxId, request, GpuRequests.FenceAndRing, _gpu.NextFence(), 0));
        return new CcmdResult(r.Type, int.MinValue, []);
    }

    public uint PublishedSeqno => BinaryPrimitives.ReadUInt32LittleEndian(_gpu.Window.Read(Shmem!.ShmOffset!.Value, 4));

    private static byte[] Bytes<T>(in T req) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in req)).ToArray();

    private CcmdResult Query(QueryType type, Action<byte[]>? args = null, int rspSize = CcmdQueryInfoRsp.Size, byte[]? payload = null)
    {
        var req = new CcmdQueryInfoReq { type = (uint)type };
        var bytes = Bytes(req);
        args?.Invoke(bytes);
        if (payload is not null) bytes = [.. bytes, .. payload];
        return Submit(CcmdFamily.QueryInfo, bytes, rspSize);
    }

    // ------------------------------------------------------------------ QUERY_INFO

    /// <summary>OPEN_KFD with a heap-address hint; remembers the VM area of the first success.</summary>
    public CcmdResult OpenKfd(ulong curVmStart = 0x5555_5555_0000)
    {
        var r = Query(QueryType.OpenKfd, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), curVmStart));
        if (r.Ret == 0 && VmStart == 0)
        {
            var rsp = r.ReadAt<QueryOpenKfdRsp>(8);
            (VmStart, VmSize) = (rsp.vm_start, rsp.vm_size);
        }
        return r;
    }

    public (int Ret, HsaSystemProperties Props) GetSystemProperties()
    {
        var r = Query(QueryType.GetSysProp);
        return (r.Ret, r.ReadAt<HsaSystemProperties>(8));
    }

    public (int Ret, HsaNodeProperties Props) GetNodeProperties(uint node)
    {
        var r = Query(QueryType.GetNodeProp, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), node));
        return (r.Ret, r.ReadAt<HsaNodeProperties>(8));
    }

    public (int Ret, HsaMemoryProperties[] Banks) GetNodeMemoryProperties(uint node, uint count)
    {
        var r = Query(QueryType.GetNodMemProp, b => { BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), node); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), count); },
            CcmdQueryInfoRsp.Size + HsaMemoryProperties.Size * (int)count);
        return (r.Ret, Array(r, count, HsaMemoryProperties.Size, s => MemoryMarshal.Read<HsaMemoryProperties>(s)));
    }

    public (int Ret, HsaCacheProperties[] Caches) GetNodeCacheProperties(uint node, uint processorId, uint count)
    {
        var r = Query(QueryType.GetNodCacheProp, b =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), node);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), processorId);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), count);
        }, CcmdQueryInfoRsp.Size + HsaCacheProperties.Size * (int)count);
        return (r.Ret, Array(r, count, HsaCacheProperties.Size, s => MemoryMarshal.Read<HsaCacheProperties>(s)));
    }

    public (int Ret, HsaIoLinkProperties[] Links) GetNodeIoLinkProperties(uint node, uint count)
    {
        var r = Query(QueryType.GetNodIoLinkProp, b => { BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), node); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), count); },
            CcmdQueryInfoRsp.Size + HsaIoLinkProperties.Size * (int)count);
        return (r.Ret, Array(r, count, HsaIoLinkProperties.Size, s => MemoryMarshal.Read<HsaIoLinkProperties>(s)));
    }

    private delegate T SpanReader<T>(ReadOnlySpan<byte> s);

    private static T[] Array<T>(CcmdResult r, uint count, int size, SpanReader<T> read)
    {
        var result = new T[count];
        for (int i = 0; i < count && CcmdQueryInfoRsp.Size + (i + 1) * size <= r.Slot.Length; i++)
            result[i] = read(r.Slot.AsSpan(CcmdQueryInfoRsp.Size + i * size));
        return result;
    }

    // ------------------------------------------------------------------ MEMORY

    private CcmdResult Memory(MemoryType type, Action<byte[]> args, ulong blobId = 0, uint resId = 0, byte[]? payload = null)
    {
        var req = new CcmdMemoryReq { type = (uint)type, blob_id = blobId, res_id = resId };
        var bytes = Bytes(req);
        args(bytes);
        if (payload is not null) bytes = [.. bytes, .. payload, .. new byte[(8 - payload.Length % 8) % 8]];
        return Submit(CcmdFamily.Memory, bytes, CcmdMemoryRsp.Size);
    }

    /// <summary>hsaKmtAllocMemoryAlign: MEMORY/ALLOC, CREATE_BLOB (MAPPABLE iff HostAccess or NoAddress) [+ MAP] + ATTACH.</summary>
    public GuestAllocation AllocMemory(uint node, ulong size, uint memFlags, ulong alignment = 0)
    {
        ulong blobId = NextBlobId();
        var r = Memory(MemoryType.Alloc, b =>
        {
            var a = new MemoryReqAllocArgs { PreferredNode = node, MemFlags = new HsaMemFlags(memFlags), SizeInBytes = size, Alignment = alignment };
            MemoryMarshal.Write(b.AsSpan(16), in a);
        }, blobId);
        if (r.Ret != 0) return new GuestAllocation(r.Ret, 0, null, VirtioGpuCtrlType.VIRTIO_GPU_UNDEFINED);
        ulong va = r.ReadAt<ulong>(8);
        bool mappable = (memFlags & (HsaMemFlags.HostAccess | HsaMemFlags.NoAddress)) != 0;
        var blob = CreateBlob(blobId, size, mappable ? VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE : 0, out var status);
        return new GuestAllocation(0, va, blob, status);
    }

    public CcmdResult MapToGpuNodes(ulong va, ulong size, IReadOnlyList<uint> nodes, uint resId = 0)
    {
        var payload = MemoryMarshal.AsBytes(nodes.ToArray().AsSpan()).ToArray();
        return Memory(MemoryType.MapToGpuNodes, b =>
        {
            var a = new MemoryReqMapToGPUNodesArgs { MemoryAddress = va, MemorySizeInBytes = size, NumberOfNodes = (ulong)nodes.Count };
            MemoryMarshal.Write(b.AsSpan(16), in a);
        }, resId: resId, payload: payload);
    }

    public CcmdResult UnmapFromGpu(ulong va) =>
        Memory(MemoryType.UnmapToGpu, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), va));

    public (int Ret, ulong Bytes) AvailableMemory(uint node)
    {
        var r = Memory(MemoryType.AvailMem, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), node));
        return (r.Ret, r.ReadAt<ulong>(8));
    }

    /// <summary>
    /// hsaKmtRegisterMemory of guest memory: CREATE_BLOB(HOST3D_GUEST, USE_USERPTR, page runs) + ATTACH, then
    /// MAP_USERPTR (host VA), then REG_MEM_WITH_FLAG (CoarseGrain).
    /// </summary>
    public GuestUserptr RegisterUserptr(IReadOnlyList<(ulong Gpa, uint Length)> pages)
    {
        ulong size = 0;
        foreach (var p in pages) size += p.Length;
        var blob = CreateBlob(NextBlobId(), size, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_USERPTR,
            pages.Select(p => (p.Gpa, p.Length)).ToList(), out var status);
        if (status != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA) return new GuestUserptr(blob, status, 0, 0, 0, 0);
        var map = Memory(MemoryType.MapUserptr, _ => { }, resId: blob.ResId);
        var rsp = map.ReadAt<CcmdMemoryMapUserptrRsp>(8);
        var reg = Memory(MemoryType.RegMemWithFlag, b =>
        {
            var a = new MemoryRegMemWithFlag { MemoryAddress = rsp.userptr_handle, MemorySizeInBytes = size, MemFlags = new HsaMemFlags(HsaMemFlags.CoarseGrain) };
            MemoryMarshal.Write(b.AsSpan(16), in a);
        }, resId: blob.ResId);
        return new GuestUserptr(blob, status, map.Ret, rsp.userptr_handle, rsp.npfns, reg.Ret);
    }

    // ------------------------------------------------------------------ EVENT

    private CcmdResult Event(EventType type, Action<byte[]> args, ulong blobId = 0, uint resId = 0)
    {
        var req = new CcmdEventReq { type = (uint)type, blob_id = blobId, res_id = resId };
        var bytes = Bytes(req);
        args(bytes);
        return Submit(CcmdFamily.Event, bytes, CcmdEventRsp.Size);
    }

    /// <summary>hsaKmtCreateEvent: EVENT/CREATE, then CREATE_BLOB(HOST3D, flags 0, 72 → one page) + ATTACH.</summary>
    public GuestEvent CreateEvent(uint eventType = 0, uint node = 0, bool manualReset = false, bool signaled = false, uint blobFlags = 0)
    {
        ulong blobId = NextBlobId();
        var r = Event(EventType.Create, b =>
        {
            var a = new EventReqCreateArgs
            {
                EventDesc = new HsaEventDescriptor { EventType = eventType, NodeId = node },
                ManualReset = manualReset ? (byte)1 : (byte)0,
                IsSignaled = signaled ? (byte)1 : (byte)0,
            };
            MemoryMarshal.Write(b.AsSpan(16), in a);
        }, blobId);
        if (r.Ret != 0) return new GuestEvent(r.Ret, default, null, VirtioGpuCtrlType.VIRTIO_GPU_UNDEFINED);
        var ev = r.ReadAt<vHsaEvent>(8);
        var blob = CreateBlob(blobId, vHsaEvent.Size, blobFlags, out var status);
        return new GuestEvent(0, ev, blob, status);
    }

    public CcmdResult SetEvent(GuestEvent ev) =>
        Event(EventType.Set, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), ev.Event.event_handle), resId: ev.Blob!.ResId);

    public CcmdResult ResetEvent(GuestEvent ev) =>
        Event(EventType.Reset, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), ev.Event.event_handle), resId: ev.Blob!.ResId);

    public CcmdResult QueryEvent(GuestEvent ev) =>
        Event(EventType.QueryState, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), ev.Event.event_handle), resId: ev.Blob!.ResId);

    // ------------------------------------------------------------------ QUEUE

    /// <summary>
    /// hsaKmtCreateQueue (AQL): QUEUE/CREATE naming the ring allocation and the r/w-pointer allocation, then the
    /// doorbell blob (MAPPABLE 0x2000, first queue on the node) and the QUEUE blob (flags 0, ring size).
    /// </summary>
    public GuestQueue CreateQueue(uint node, uint type, GuestAllocation ring, ulong ringSize, GuestAllocation rwPointers, ulong writePtr, ulong readPtr,
        bool firstOnNode = true, ulong eventHandle = 0)
    {
        ulong queueBlob = NextBlobId();
        ulong doorbellBlob = firstOnNode ? NextBlobId() : 0;
        bool aql = type == 21;
        ulong rwBlob = aql ? 0 : NextBlobId();
        var req = new CcmdQueueReq
        {
            type = (uint)QueueType.Create,
            create_queue_args = new QueueReqCreate
            {
                NodeId = node, Type = type, QueuePercentage = 100, Priority = 0, SdmaEngineId = 0xFFFF_FFFF,
                QueueAddress = ring.Va, QueueSizeInBytes = ringSize, Event = eventHandle,
                Queue_write_ptr_aql = writePtr, Queue_read_ptr_aql = readPtr,
            },
            blob_id = queueBlob, rw_ptr_blob_id = rwBlob, doorbell_blob_id = doorbellBlob,
            res_id = aql ? rwPointers.Blob!.ResId : 0, queue_mem_res_id = ring.Blob!.ResId,
        };
        var r = Submit(CcmdFamily.Queue, Bytes(req), CcmdQueueRsp.Size);
        if (r.Ret != 0) return new GuestQueue(r.Ret, default, null, null, null);
        var res = r.ReadAt<vHsaQueueResource>(8);
        GuestBlob? db = doorbellBlob != 0 ? CreateBlob(doorbellBlob, 0x2000, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, out _) : null;
        GuestBlob? rw = rwBlob != 0 ? CreateBlob(rwBlob, PageSize, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, out _) : null;
        var q = CreateBlob(queueBlob, ringSize, 0, out _);
        return new GuestQueue(0, res, q, db, rw);
    }

    // ------------------------------------------------------------------ helpers

    private static void Expect(ControlResponse r, string what)
    {
        if (!r.Ok) throw new InvalidOperationException($"{what} answered {r.Type}");
    }
}
