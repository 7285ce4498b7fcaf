using System.Runtime.InteropServices;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.TestSupport.Guest;

/// <summary>
/// Encodes virtio-gpu control requests exactly as the Linux guest driver lays them out (linux/virtio_gpu.h),
/// for the in-test guest and for device unit tests.
/// </summary>
public static class GpuRequests
{
    public const uint FenceAndRing = VirtioGpuConst.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConst.VIRTIO_GPU_FLAG_INFO_RING_IDX;

    public static VirtioGpuCtrlHdr Header(VirtioGpuCtrlType type, uint ctxId = 0, uint flags = 0, ulong fenceId = 0, byte ringIdx = 0) =>
        new() { type = (uint)type, ctx_id = ctxId, flags = flags, fence_id = fenceId, ring_idx = ringIdx };

    public static byte[] Bytes<T>(in T value) where T : struct
    {
        var b = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(b, in value);
        return b;
    }

    public static byte[] GetDisplayInfo() => Bytes(Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_DISPLAY_INFO));

    public static byte[] GetCapsetInfo(uint index) =>
        Bytes(new VirtioGpuGetCapsetInfo { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_CAPSET_INFO), capset_index = index });

    public static byte[] GetCapset(uint id, uint version) =>
        Bytes(new VirtioGpuGetCapset { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_CAPSET), capset_id = id, capset_version = version });

    public static byte[] CtxCreate(uint ctxId, uint contextInit, string debugName)
    {
        var r = new VirtioGpuCtxCreate { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_CREATE, ctxId), context_init = contextInit };
        var name = System.Text.Encoding.ASCII.GetBytes(debugName);
        int n = Math.Min(name.Length, 64);
        r.nlen = (uint)n;
        var b = Bytes(r);
        name.AsSpan(0, n).CopyTo(b.AsSpan(32));
        return b;
    }

    public static byte[] CtxDestroy(uint ctxId) => Bytes(Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_DESTROY, ctxId));

    public static byte[] CtxAttach(uint ctxId, uint resId) =>
        Bytes(new VirtioGpuCtxResource { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctxId), resource_id = resId });

    public static byte[] CtxDetach(uint ctxId, uint resId) =>
        Bytes(new VirtioGpuCtxResource { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, ctxId), resource_id = resId });

    /// <summary>RESOURCE_CREATE_BLOB followed by its mem entries (guest-physical runs).</summary>
    public static byte[] CreateBlob(uint ctxId, uint resId, uint blobMem, uint blobFlags, ulong blobId, ulong size, IReadOnlyList<(ulong Addr, uint Length)>? entries = null)
    {
        entries ??= [];
        var r = new VirtioGpuResourceCreateBlob
        {
            hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, ctxId),
            resource_id = resId, blob_mem = blobMem, blob_flags = blobFlags, nr_entries = (uint)entries.Count, blob_id = blobId, size = size,
        };
        var b = new byte[VirtioGpuResourceCreateBlob.Size + entries.Count * VirtioGpuMemEntry.Size];
        MemoryMarshal.Write(b, in r);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = new VirtioGpuMemEntry { addr = entries[i].Addr, length = entries[i].Length };
            MemoryMarshal.Write(b.AsSpan(VirtioGpuResourceCreateBlob.Size + i * VirtioGpuMemEntry.Size), in e);
        }
        return b;
    }

    public static byte[] MapBlob(uint ctxId, uint resId, ulong offset) =>
        Bytes(new VirtioGpuResourceMapBlob { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, ctxId), resource_id = resId, offset = offset });

    public static byte[] UnmapBlob(uint ctxId, uint resId) =>
        Bytes(new VirtioGpuResourceUnmapBlob { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, ctxId), resource_id = resId });

    public static byte[] Unref(uint resId) =>
        Bytes(new VirtioGpuResourceUnref { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_UNREF), resource_id = resId });

    /// <summary>SUBMIT_3D with the ccmd stream appended (one buffer; the driver uses a second descriptor, the device must not care).</summary>
    public static byte[] Submit3D(uint ctxId, ReadOnlySpan<byte> payload, uint flags = 0, ulong fenceId = 0, byte ringIdx = 0)
    {
        var r = new VirtioGpuCmdSubmit { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D, ctxId, flags, fenceId, ringIdx), size = (uint)payload.Length };
        var b = new byte[VirtioGpuCmdSubmit.Size + payload.Length];
        MemoryMarshal.Write(b, in r);
        payload.CopyTo(b.AsSpan(VirtioGpuCmdSubmit.Size));
        return b;
    }

    public static byte[] Create2D(uint resId, uint width, uint height) =>
        Bytes(new VirtioGpuResourceCreate2d { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), resource_id = resId, format = 1, width = width, height = height });

    public static byte[] SetScanout(uint scanoutId, uint resId) =>
        Bytes(new VirtioGpuSetScanout { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_SET_SCANOUT), scanout_id = scanoutId, resource_id = resId });

    public static byte[] ResourceFlush(uint resId) =>
        Bytes(new VirtioGpuResourceFlush { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_FLUSH), resource_id = resId });

    public static byte[] TransferToHost2D(uint resId) =>
        Bytes(new VirtioGpuTransferToHost2d { hdr = Header(VirtioGpuCtrlType.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), resource_id = resId });

    /// <summary>Response header fields of a control response.</summary>
    public static VirtioGpuCtrlHdr ReadHeader(ReadOnlySpan<byte> response) => MemoryMarshal.Read<VirtioGpuCtrlHdr>(response);
}
