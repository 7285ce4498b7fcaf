using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.VirtioGpu;

/// <summary>
/// Encodes control-queue responses into a caller-provided buffer (no allocation). A fenced request's
/// response echoes flags (FENCE, INFO_RING_IDX), fence_id, ctx_id and ring_idx (PROTOCOL.md §2.2).
/// Each method returns the number of bytes written.
/// </summary>
public static class VirtioGpuResponseWriter
{
    public static VirtioGpuCtrlHdr HeaderFor(in ControlHeader request, VirtioGpuCtrlType type)
    {
        var h = new VirtioGpuCtrlHdr { type = (uint)type };
        if (request.IsFenced)
        {
            h.flags = request.Flags & (VirtioGpuConst.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConst.VIRTIO_GPU_FLAG_INFO_RING_IDX);
            h.fence_id = request.FenceId;
            h.ctx_id = request.CtxId;
            h.ring_idx = request.RingIdx;
        }
        return h;
    }

    /// <summary>Header-only response (OK_NODATA or any 0x12xx error).</summary>
    public static int WriteNoData(Span<byte> dst, in ControlHeader request, VirtioGpuCtrlType type)
    {
        var h = HeaderFor(request, type);
        MemoryMarshal.Write(dst, in h);
        return VirtioGpuCtrlHdr.Size;
    }

    public static int WriteCapsetInfo(Span<byte> dst, in ControlHeader request, uint capsetId, uint maxVersion, uint maxSize)
    {
        var r = new VirtioGpuRespCapsetInfo
        {
            hdr = HeaderFor(request, VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_CAPSET_INFO),
            capset_id = capsetId, capset_max_version = maxVersion, capset_max_size = maxSize,
        };
        MemoryMarshal.Write(dst, in r);
        return VirtioGpuRespCapsetInfo.Size;
    }

    public static int WriteCapset(Span<byte> dst, in ControlHeader request, ReadOnlySpan<byte> capsetData)
    {
        var h = HeaderFor(request, VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_CAPSET);
        MemoryMarshal.Write(dst, in h);
        capsetData.CopyTo(dst[VirtioGpuRespCapset.CapsetDataOffset..]);
        return VirtioGpuRespCapset.CapsetDataOffset + capsetData.Length;
    }

    public static int WriteMapInfo(Span<byte> dst, in ControlHeader request, uint mapInfo)
    {
        var r = new VirtioGpuRespMapInfo { hdr = HeaderFor(request, VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_MAP_INFO), map_info = mapInfo };
        MemoryMarshal.Write(dst, in r);
        return VirtioGpuRespMapInfo.Size;
    }

    /// <summary>OK_DISPLAY_INFO with every scanout disabled (headless device).</summary>
    public static int WriteEmptyDisplayInfo(Span<byte> dst, in ControlHeader request)
    {
        dst[..VirtioGpuRespDisplayInfo.Size].Clear();
        var h = HeaderFor(request, VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
        MemoryMarshal.Write(dst, in h);
        return VirtioGpuRespDisplayInfo.Size;
    }
}
