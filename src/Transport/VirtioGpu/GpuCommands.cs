using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VirtioGpu;

// Decoded control-queue commands. Each carries the chain it came in, so the device can answer it; every
// field was copied out of guest memory once by the decoder (the guest may rewrite the ring at any time).

public abstract record GpuCommand(ControlHeader Header, DescriptorChain Chain);

public sealed record GetDisplayInfoCommand(ControlHeader Header, DescriptorChain Chain) : GpuCommand(Header, Chain);
public sealed record GetCapsetInfoCommand(ControlHeader Header, DescriptorChain Chain, uint CapsetIndex) : GpuCommand(Header, Chain);
public sealed record GetCapsetCommand(ControlHeader Header, DescriptorChain Chain, uint CapsetId, uint CapsetVersion) : GpuCommand(Header, Chain);
public sealed record GetEdidCommand(ControlHeader Header, DescriptorChain Chain, uint Scanout) : GpuCommand(Header, Chain);

/// <summary>CTX_CREATE; <paramref name="DebugName"/> is the first min(nlen, 64) bytes as ASCII-ish text (guest task comm).</summary>
public sealed record CtxCreateCommand(ControlHeader Header, DescriptorChain Chain, uint ContextInit, string DebugName) : GpuCommand(Header, Chain);
public sealed record CtxDestroyCommand(ControlHeader Header, DescriptorChain Chain) : GpuCommand(Header, Chain);
public sealed record CtxAttachResourceCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);
public sealed record CtxDetachResourceCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);

/// <summary>RESOURCE_CREATE_BLOB with its mem entries (guest-physical page runs; empty for HOST3D).</summary>
public sealed record ResourceCreateBlobCommand(
    ControlHeader Header, DescriptorChain Chain, uint ResourceId, uint BlobMem, uint BlobFlags, ulong BlobId, ulong Size,
    GuestSegment[] Entries) : GpuCommand(Header, Chain);

public sealed record ResourceMapBlobCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId, ulong Offset) : GpuCommand(Header, Chain);
public sealed record ResourceUnmapBlobCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);
public sealed record ResourceUnrefCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);

/// <summary>
/// SUBMIT_3D; the ccmd stream was copied once into <paramref name="Payload"/> (rented from
/// <see cref="System.Buffers.ArrayPool{T}.Shared"/>, <paramref name="Length"/> valid bytes). Whoever finishes the
/// command returns the buffer.
/// </summary>
public sealed record Submit3DCommand(ControlHeader Header, DescriptorChain Chain, byte[] Payload, int Length) : GpuCommand(Header, Chain);

public sealed record ResourceCreate2DCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId, uint Format, uint Width, uint Height) : GpuCommand(Header, Chain);
public sealed record ResourceAttachBackingCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId, GuestSegment[] Entries) : GpuCommand(Header, Chain);
public sealed record ResourceDetachBackingCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);
public sealed record SetScanoutCommand(ControlHeader Header, DescriptorChain Chain, uint ScanoutId, uint ResourceId) : GpuCommand(Header, Chain);
public sealed record ResourceFlushCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId) : GpuCommand(Header, Chain);
public sealed record TransferToHost2DCommand(ControlHeader Header, DescriptorChain Chain, uint ResourceId, ulong Offset) : GpuCommand(Header, Chain);

/// <summary>A well-formed command this device does not implement (answered ERR_UNSPEC).</summary>
public sealed record UnsupportedCommand(ControlHeader Header, DescriptorChain Chain) : GpuCommand(Header, Chain);

/// <summary>A request that could not be decoded; <paramref name="Error"/> is the response type to answer with.</summary>
public sealed record MalformedCommand(ControlHeader Header, DescriptorChain Chain, VirtioGpuCtrlType Error, string Reason) : GpuCommand(Header, Chain);
