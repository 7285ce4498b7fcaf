using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.VirtioGpu;

/// <summary>A decoded <c>virtio_gpu_ctrl_hdr</c> of a request (PROTOCOL.md §2.2).</summary>
public readonly record struct ControlHeader(uint Type, uint Flags, ulong FenceId, uint CtxId, byte RingIdx)
{
    public VirtioGpuCtrlType Command => (VirtioGpuCtrlType)Type;
    public bool IsFenced => (Flags & VirtioGpuConst.VIRTIO_GPU_FLAG_FENCE) != 0;
    public bool HasRingIdx => (Flags & VirtioGpuConst.VIRTIO_GPU_FLAG_INFO_RING_IDX) != 0;

    public static ControlHeader Read(ReadOnlySpan<byte> source)
    {
        var h = MemoryMarshal.Read<VirtioGpuCtrlHdr>(source);
        return new ControlHeader(h.type, h.flags, h.fence_id, h.ctx_id, h.ring_idx);
    }
}
