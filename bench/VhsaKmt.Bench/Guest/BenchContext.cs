using System.Diagnostics;
using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Bench.Guest;

/// <summary>
/// One guest "process" (= one capset-8 virtio-gpu context) as ROCm's guest library drives it (PROTOCOL.md
/// §1.1, §3): CTX_CREATE, an 80-page shmem blob (blob_id 0) mapped through the host-visible window and
/// attached, OPEN_KFD; then ccmds in SUBMIT_3D (FENCE|INFO_RING_IDX, ring 0) with guest seqnos and response
/// slots whose len is pre-written. Encoding goes straight into the context's pre-built chains.
/// </summary>
public sealed unsafe class BenchContext
{
    public const int ShmemBytes = 80 * 4096;
    private readonly BenchVm _vm;
    private byte* _shmem;
    private uint _rspMemOffset;
    private uint _seqno;
    private uint _rspNext;
    private uint _nextBlobId = 1;

    public BenchContext(BenchVm vm, uint ctxId, int slots, int requestCapacity)
    {
        _vm = vm;
        CtxId = ctxId;
        Slots = new ChainSlot[slots];
        for (int i = 0; i < slots; i++) Slots[i] = vm.Queue.NewSlot(requestCapacity, 64);
    }

    public uint CtxId { get; }
    public uint ShmemResId { get; private set; }
    public ulong ShmemWindowOffset { get; private set; }
    public ChainSlot[] Slots { get; }
    public BenchVm Vm => _vm;

    /// <summary>VM area the host answered to OPEN_KFD.</summary>
    public ulong VmStart { get; private set; }

    private uint AreaSize => ShmemBytes - _rspMemOffset;

    /// <summary>The guest's blob id counter: pre-incremented from 1, so the first id is 2 (§2.7).</summary>
    public uint NextBlobId() => ++_nextBlobId;

    /// <summary>Create the context, its shmem and open the KFD; returns the elapsed time.</summary>
    public TimeSpan Open()
    {
        long t0 = Stopwatch.GetTimestamp();
        _vm.Expect(GpuRequests.CtxCreate(CtxId, VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT, $"bench-{CtxId}"), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_CREATE");
        ShmemResId = _vm.NextResourceId();
        _vm.Expect(GpuRequests.CreateBlob(CtxId, ShmemResId, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 0, ShmemBytes),
            VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CREATE_BLOB(shmem)");
        ShmemWindowOffset = _vm.NextWindowOffset(ShmemBytes);
        _vm.Expect(GpuRequests.MapBlob(CtxId, ShmemResId, ShmemWindowOffset), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_MAP_INFO, "MAP_BLOB(shmem)");
        _vm.Expect(GpuRequests.CtxAttach(CtxId, ShmemResId), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_ATTACH(shmem)");
        _shmem = (byte*)(_vm.Vmm.Window!.Address + ShmemWindowOffset);
        _rspMemOffset = Volatile.Read(ref *(uint*)(_shmem + 4));
        if (_rspMemOffset < 16 || _rspMemOffset >= ShmemBytes) throw new InvalidDataException($"rsp_mem_offset {_rspMemOffset}");

        var open = new CcmdQueryInfoReq { type = (uint)QueryType.OpenKfd };
        var rsp = Call(MemoryMarshal.AsBytes(new ReadOnlySpan<CcmdQueryInfoReq>(in open)), CcmdFamily.QueryInfo, CcmdQueryInfoRsp.Size);
        int ret = MemoryMarshal.Read<int>(rsp[4..]);
        if (ret != 0) throw new InvalidOperationException($"OPEN_KFD answered {ret}");
        VmStart = MemoryMarshal.Read<ulong>(rsp[8..]);
        return Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>Release the shmem and destroy the context as the guest kernel does at close; returns the elapsed time.</summary>
    public TimeSpan Close()
    {
        long t0 = Stopwatch.GetTimestamp();
        _vm.Expect(GpuRequests.CtxDetach(CtxId, ShmemResId), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_DETACH(shmem)");
        _vm.Expect(GpuRequests.UnmapBlob(CtxId, ShmemResId), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "UNMAP_BLOB(shmem)");
        _vm.Expect(GpuRequests.Unref(ShmemResId), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "RESOURCE_UNREF(shmem)");
        _vm.Expect(GpuRequests.CtxDestroy(CtxId), VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, "CTX_DESTROY");
        _shmem = null;
        return Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>The shmem seqno the host published last.</summary>
    public uint PublishedSeqno => Volatile.Read(ref *(uint*)_shmem);

    public bool Reached(uint seqno) => (int)(PublishedSeqno - seqno) >= 0;

    /// <summary>Write a SUBMIT_3D carrying <paramref name="count"/> NOPs into <paramref name="slot"/>; returns its length.</summary>
    public int WriteNops(ChainSlot slot, int count)
    {
        int payload = count * CcmdReqHeader.Size;
        WriteSubmitHeader(slot, payload);
        var ccmd = (CcmdReqHeader*)(slot.Request + VirtioGpuCmdSubmit.Size);
        for (int i = 0; i < count; i++)
            ccmd[i] = new CcmdReqHeader { cmd = (uint)CcmdFamily.Nop, len = CcmdReqHeader.Size, seqno = ++_seqno, rsp_off = 0 };
        slot.LastSeqno = _seqno;
        slot.Ccmds = count;
        return VirtioGpuCmdSubmit.Size + payload;
    }

    private void WriteSubmitHeader(ChainSlot slot, int payload)
    {
        if (VirtioGpuCmdSubmit.Size + payload > slot.RequestCapacity) throw new ArgumentException("submit larger than the chain's buffer");
        *(VirtioGpuCmdSubmit*)slot.Request = new VirtioGpuCmdSubmit
        {
            hdr = GpuRequests.Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D, CtxId, GpuRequests.FenceAndRing, _vm.NextFenceId(), 0),
            size = (uint)payload,
        };
    }

    /// <summary>
    /// One synchronous ccmd as G-new sends it: take a response slot (bump, wrap), pre-write its len, stamp the
    /// header, submit on the context's first chain, wait for the fence and the seqno; returns the response slot.
    /// </summary>
    public ReadOnlySpan<byte> Call(ReadOnlySpan<byte> request, CcmdFamily family, int responseSize, int waitMs = 10_000)
    {
        var slot = Slots[0];
        uint rspSize = (uint)((responseSize + 7) & ~7);
        if (_rspNext + rspSize >= AreaSize) _rspNext = 0;
        uint rspOff = _rspNext;
        _rspNext += rspSize;
        byte* rsp = _shmem + _rspMemOffset + rspOff;
        new Span<byte>(rsp, (int)rspSize).Clear();
        *(uint*)rsp = rspSize;

        int len = (request.Length + 7) & ~7;
        WriteSubmitHeader(slot, len);
        var body = new Span<byte>(slot.Request + VirtioGpuCmdSubmit.Size, len);
        body.Clear();
        request.CopyTo(body);
        uint seqno = ++_seqno;
        MemoryMarshal.Write(body, new CcmdReqHeader { cmd = (uint)family, len = (uint)len, seqno = seqno, rsp_off = rspOff });
        slot.LastSeqno = seqno;
        _vm.Queue.RoundTrip(slot, VirtioGpuCmdSubmit.Size + len, TimeSpan.FromMilliseconds(waitMs));
        var type = (VirtioGpuCtrlType)((VirtioGpuCtrlHdr*)slot.Response)->type;
        if (type != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA) throw new InvalidOperationException($"SUBMIT_3D answered {type}");
        // The fence retired after seqno was published (§3.4), so no spin is needed here.
        if (!Reached(seqno)) throw new InvalidOperationException($"fence retired before seqno {seqno} (shmem has {PublishedSeqno})");
        return new ReadOnlySpan<byte>(rsp, (int)rspSize);
    }
}
