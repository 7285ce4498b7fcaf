using System.Buffers;
using System.Runtime.InteropServices;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VirtioGpu;

/// <summary>
/// Decodes one control-queue descriptor chain into a <see cref="GpuCommand"/>. Table-driven: command type →
/// (request struct size, decoder). The fixed request is copied once into a stack buffer; trailing mem entries and
/// the SUBMIT_3D payload are bounds-checked against the chain and copied once into private memory. Never throws
/// for guest input: anything wrong becomes a <see cref="MalformedCommand"/> carrying the error to answer.
/// </summary>
public sealed class VirtioGpuCommandDecoder
{
    private delegate GpuCommand DecodeFn(in ControlHeader header, ReadOnlySpan<byte> request, DescriptorChain chain);

    private readonly record struct Entry(int RequestSize, DecodeFn Decoder);

    /// <summary>Largest fixed request struct in the table (CTX_CREATE, SET_SCANOUT_BLOB: 96).</summary>
    private const int MaxRequestSize = 96;

    private readonly VirtioGpuDecoderLimits _limits;
    private readonly Dictionary<uint, Entry> _table;

    public VirtioGpuCommandDecoder(VirtioGpuDecoderLimits limits)
    {
        _limits = limits;
        _table = new Dictionary<uint, Entry>
        {
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_DISPLAY_INFO] = new(VirtioGpuCtrlHdr.Size, (in ControlHeader h, ReadOnlySpan<byte> _, DescriptorChain c) => new GetDisplayInfoCommand(h, c)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_CAPSET_INFO] = new(VirtioGpuGetCapsetInfo.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new GetCapsetInfoCommand(h, c, MemoryMarshal.Read<VirtioGpuGetCapsetInfo>(s).capset_index)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_CAPSET] = new(VirtioGpuGetCapset.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
            {
                var r = MemoryMarshal.Read<VirtioGpuGetCapset>(s);
                return new GetCapsetCommand(h, c, r.capset_id, r.capset_version);
            }),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_GET_EDID] = new(VirtioGpuCmdGetEdid.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new GetEdidCommand(h, c, MemoryMarshal.Read<VirtioGpuCmdGetEdid>(s).scanout)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_CREATE] = new(VirtioGpuCtxCreate.Size, DecodeCtxCreate),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_DESTROY] = new(VirtioGpuCtxDestroy.Size, (in ControlHeader h, ReadOnlySpan<byte> _, DescriptorChain c) => new CtxDestroyCommand(h, c)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE] = new(VirtioGpuCtxResource.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new CtxAttachResourceCommand(h, c, MemoryMarshal.Read<VirtioGpuCtxResource>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE] = new(VirtioGpuCtxResource.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new CtxDetachResourceCommand(h, c, MemoryMarshal.Read<VirtioGpuCtxResource>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB] = new(VirtioGpuResourceCreateBlob.Size, DecodeCreateBlob),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB] = new(VirtioGpuResourceMapBlob.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
            {
                var r = MemoryMarshal.Read<VirtioGpuResourceMapBlob>(s);
                return new ResourceMapBlobCommand(h, c, r.resource_id, r.offset);
            }),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB] = new(VirtioGpuResourceUnmapBlob.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new ResourceUnmapBlobCommand(h, c, MemoryMarshal.Read<VirtioGpuResourceUnmapBlob>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_UNREF] = new(VirtioGpuResourceUnref.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new ResourceUnrefCommand(h, c, MemoryMarshal.Read<VirtioGpuResourceUnref>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D] = new(VirtioGpuCmdSubmit.Size, DecodeSubmit),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D] = new(VirtioGpuResourceCreate2d.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
            {
                var r = MemoryMarshal.Read<VirtioGpuResourceCreate2d>(s);
                return new ResourceCreate2DCommand(h, c, r.resource_id, r.format, r.width, r.height);
            }),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING] = new(VirtioGpuResourceAttachBacking.Size, DecodeAttachBacking),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING] = new(VirtioGpuResourceDetachBacking.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new ResourceDetachBackingCommand(h, c, MemoryMarshal.Read<VirtioGpuResourceDetachBacking>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_SET_SCANOUT] = new(VirtioGpuSetScanout.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
            {
                var r = MemoryMarshal.Read<VirtioGpuSetScanout>(s);
                return new SetScanoutCommand(h, c, r.scanout_id, r.resource_id);
            }),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_RESOURCE_FLUSH] = new(VirtioGpuResourceFlush.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
                new ResourceFlushCommand(h, c, MemoryMarshal.Read<VirtioGpuResourceFlush>(s).resource_id)),
            [(uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D] = new(VirtioGpuTransferToHost2d.Size, (in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c) =>
            {
                var r = MemoryMarshal.Read<VirtioGpuTransferToHost2d>(s);
                return new TransferToHost2DCommand(h, c, r.resource_id, r.offset);
            }),
        };
    }

    /// <summary>Decode <paramref name="chain"/>; never null, never throws for guest input.</summary>
    public GpuCommand Decode(DescriptorChain chain)
    {
        Span<byte> request = stackalloc byte[MaxRequestSize];
        int headerBytes = chain.ReadAt(0, request[..VirtioGpuCtrlHdr.Size]);
        if (headerBytes < VirtioGpuCtrlHdr.Size)
            return new MalformedCommand(default, chain, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC,
                $"request of {chain.ReadableLength} readable bytes is shorter than the 24-byte header");

        var header = ControlHeader.Read(request);
        if (!_table.TryGetValue(header.Type, out var entry))
            return new UnsupportedCommand(header, chain);

        if (chain.ReadableLength < entry.RequestSize)
            return new MalformedCommand(header, chain, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC,
                $"{header.Command}: {chain.ReadableLength} readable bytes, request needs {entry.RequestSize}");

        var body = request[..entry.RequestSize];
        int read = chain.ReadAt(VirtioGpuCtrlHdr.Size, body[VirtioGpuCtrlHdr.Size..]);
        if (read < entry.RequestSize - VirtioGpuCtrlHdr.Size)
            return new MalformedCommand(header, chain, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC, $"{header.Command}: request not readable from guest memory");

        return entry.Decoder(header, body, chain);
    }

    /// <summary>
    /// The fast path's look at a chain: true when it is a SUBMIT_3D whose size is within the limits and the chain;
    /// <paramref name="header"/> and <paramref name="size"/> are then set (the payload is not copied yet: see
    /// <see cref="TryCopySubmitPayload"/>). Anything else, well-formed or not, is for <see cref="Decode"/>.
    /// </summary>
    public bool TryPeekSubmit(DescriptorChain chain, out ControlHeader header, out int size)
    {
        header = default;
        size = 0;
        if (chain.ReadableLength < VirtioGpuCmdSubmit.Size) return false;
        Span<byte> request = stackalloc byte[VirtioGpuCmdSubmit.Size];
        if (chain.ReadAt(0, request) < request.Length) return false;
        var h = ControlHeader.Read(request);
        if (h.Type != (uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D) return false;
        uint s = MemoryMarshal.Read<VirtioGpuCmdSubmit>(request).size;
        if (s > (uint)_limits.MaxSubmitBytes || ReadablePayload(chain) < s) return false;
        header = h;
        size = (int)s;
        return true;
    }

    private static long ReadablePayload(DescriptorChain chain) => chain.ReadableLength - VirtioGpuCmdSubmit.Size;

    /// <summary>The one private copy of a peeked SUBMIT_3D's ccmd stream (PROTOCOL.md §3.3). False if guest memory failed.</summary>
    public static bool TryCopySubmitPayload(DescriptorChain chain, Span<byte> destination) =>
        chain.ReadAt(VirtioGpuCmdSubmit.Size, destination) == destination.Length;

    private static GpuCommand DecodeCtxCreate(in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c)
    {
        var r = MemoryMarshal.Read<VirtioGpuCtxCreate>(s);
        int nlen = (int)Math.Min(r.nlen, 64u);
        ReadOnlySpan<byte> name = s.Slice(32, nlen);
        int nul = name.IndexOf((byte)0);
        if (nul >= 0) name = name[..nul];
        // Task comm from the guest: keep printable ASCII only, so it is safe in logs and actor names.
        Span<char> chars = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++) chars[i] = name[i] is >= 0x20 and < 0x7f ? (char)name[i] : '?';
        return new CtxCreateCommand(h, c, r.context_init, new string(chars));
    }

    private GpuCommand DecodeCreateBlob(in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c)
    {
        var r = MemoryMarshal.Read<VirtioGpuResourceCreateBlob>(s);
        if (!TryReadEntries(c, VirtioGpuResourceCreateBlob.Size, r.nr_entries, out var entries, out var reason))
            return new MalformedCommand(h, c, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "RESOURCE_CREATE_BLOB: " + reason);
        return new ResourceCreateBlobCommand(h, c, r.resource_id, r.blob_mem, r.blob_flags, r.blob_id, r.size, entries);
    }

    private GpuCommand DecodeAttachBacking(in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c)
    {
        var r = MemoryMarshal.Read<VirtioGpuResourceAttachBacking>(s);
        if (!TryReadEntries(c, VirtioGpuResourceAttachBacking.Size, r.nr_entries, out var entries, out var reason))
            return new MalformedCommand(h, c, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "RESOURCE_ATTACH_BACKING: " + reason);
        return new ResourceAttachBackingCommand(h, c, r.resource_id, entries);
    }

    private bool TryReadEntries(DescriptorChain chain, int offset, uint count, out GuestSegment[] entries, out string reason)
    {
        entries = [];
        if (count == 0) { reason = ""; return true; }
        if (count > (uint)_limits.MaxMemEntries) { reason = $"nr_entries {count} exceeds the limit {_limits.MaxMemEntries}"; return false; }
        long bytes = (long)count * VirtioGpuMemEntry.Size;
        if (chain.ReadableLength - offset < bytes) { reason = $"nr_entries {count} needs {bytes} bytes, chain has {chain.ReadableLength - offset}"; return false; }

        entries = new GuestSegment[count];
        Span<byte> one = stackalloc byte[VirtioGpuMemEntry.Size];
        for (int i = 0; i < entries.Length; i++)
        {
            if (chain.ReadAt(offset + (long)i * VirtioGpuMemEntry.Size, one) != one.Length) { reason = "mem entries not readable"; entries = []; return false; }
            var e = MemoryMarshal.Read<VirtioGpuMemEntry>(one);
            entries[i] = new GuestSegment(e.addr, e.length);
        }
        reason = "";
        return true;
    }

    private GpuCommand DecodeSubmit(in ControlHeader h, ReadOnlySpan<byte> s, DescriptorChain c)
    {
        uint size = MemoryMarshal.Read<VirtioGpuCmdSubmit>(s).size;
        if (size > (uint)_limits.MaxSubmitBytes)
            return new MalformedCommand(h, c, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"SUBMIT_3D: size {size} exceeds the limit {_limits.MaxSubmitBytes}");
        if (c.ReadableLength - VirtioGpuCmdSubmit.Size < size)
            return new MalformedCommand(h, c, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, $"SUBMIT_3D: size {size} beyond the {c.ReadableLength - VirtioGpuCmdSubmit.Size} readable payload bytes");

        // One private copy of the ccmd stream (PROTOCOL.md §3.3: no handler reads guest memory twice).
        var payload = ArrayPool<byte>.Shared.Rent(Math.Max((int)size, 1));
        int copied = c.ReadAt(VirtioGpuCmdSubmit.Size, payload.AsSpan(0, (int)size));
        if (copied != size)
        {
            ArrayPool<byte>.Shared.Return(payload);
            return new MalformedCommand(h, c, VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC, "SUBMIT_3D: payload not readable from guest memory");
        }
        return new Submit3DCommand(h, c, payload, (int)size);
    }
}
