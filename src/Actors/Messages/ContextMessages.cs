using System.Runtime.InteropServices;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Messages;

// The contract between DeviceActor (virtio-gpu control queue, resources, fences) and ContextActor
// (one guest context: shmem, ccmd stream, KFD objects). Immutable records; every request is answered
// exactly once with the reply named in its comment, so the DeviceActor can retire fences and complete
// descriptor chains in order.

/// <summary>Fence of a SUBMIT_3D (FLAG_FENCE set): echoed in the response, retired per (ctx, ring) in order.</summary>
public readonly record struct FenceRef(ulong FenceId, byte RingIdx, bool HasRingIdx);

/// <summary>
/// SUBMIT_3D payload, already copied once out of guest memory into <paramref name="Payload"/>
/// (<paramref name="Length"/> valid bytes; the buffer may be pooled and is returned by the device
/// after <see cref="SubmitDone"/>). Reply: <see cref="SubmitDone"/>.
/// </summary>
public sealed record Submit3D(uint CtxId, long SubmitId, byte[] Payload, int Length, FenceRef? Fence);

/// <summary>
/// Result of a submit. <paramref name="Status"/> is a virtio-gpu response type: 0x1100 OK_NODATA, or
/// 0x1200 ERR_UNSPEC when nothing could be published (no shmem yet, PROTOCOL.md §3.6).
/// </summary>
public sealed record SubmitDone(uint CtxId, long SubmitId, uint Status);

/// <summary>
/// A submit run inline on the IO thread (ContextFastPath) faulted after it was answered: the context actor rethrows
/// <paramref name="Fault"/> so its supervisor sees it, as if the submit had faulted on the actor. No reply.
/// </summary>
public sealed record InlineFault(Exception Fault);

/// <summary>One guest page run of a GUEST / HOST3D_GUEST blob (virtio_gpu_mem_entry).</summary>
public readonly record struct MemEntry(ulong Addr, uint Length);

/// <summary>RESOURCE_CREATE_BLOB for a context. Reply: <see cref="BlobCreated"/> or <see cref="BlobRefused"/>.</summary>
public sealed record CreateBlob(uint CtxId, uint ResId, uint BlobMem, uint BlobFlags, ulong BlobId, ulong Size, IReadOnlyList<MemEntry> Entries);

/// <summary>
/// A bound blob. <paramref name="Backing"/> is set for a mappable blob: the fd range the device hands
/// to the front-end with SHMEM_MAP on RESOURCE_MAP_BLOB. <paramref name="MapInfo"/> is the
/// VIRTIO_GPU_MAP_CACHE_* value for OK_MAP_INFO.
/// </summary>
public sealed record BlobCreated(uint CtxId, uint ResId, BlobBacking? Backing, uint MapInfo);

/// <summary>An fd range owned by the context's object; the device dups it when it needs to keep it.</summary>
public sealed record BlobBacking(SafeHandle Fd, ulong FdOffset, ulong Length);

/// <summary>CREATE_BLOB refused; <paramref name="VirtioError"/> is the 0x12xx response type, <paramref name="Reason"/> goes to the log.</summary>
public sealed record BlobRefused(uint CtxId, uint ResId, uint VirtioError, string Reason);

/// <summary>CTX_ATTACH_RESOURCE. Reply: <see cref="ResourceOpDone"/>.</summary>
public sealed record AttachResource(uint CtxId, uint ResId);

/// <summary>CTX_DETACH_RESOURCE: release the object bound to (ctx, res_id) in teardown order; unknown ids are ignored. Reply: <see cref="ResourceOpDone"/>.</summary>
public sealed record DetachResource(uint CtxId, uint ResId);

/// <summary>RESOURCE_UNREF fan-out to every context of the device (PROTOCOL.md §5.2); unknown ids ignored. Reply: <see cref="ResourceOpDone"/>.</summary>
public sealed record ReleaseResource(uint CtxId, uint ResId);

/// <summary>Answer to attach/detach/release; <paramref name="Status"/> is a virtio-gpu response type.</summary>
public sealed record ResourceOpDone(uint CtxId, uint ResId, uint Status);

/// <summary>Ask a context to tear everything down in order (PROTOCOL.md §5.4) and stop. The context answers nothing; watch it.</summary>
public sealed record DestroyContext(uint CtxId);

/// <summary>Created by the DeviceActor for CTX_CREATE; handed to the ContextActor's props.</summary>
public sealed record ContextInfo(string VmId, uint CtxId, string DebugName, IGuestMemory GuestMemory);
