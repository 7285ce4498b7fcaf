using Serilog;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuConst;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// RESOURCE_CREATE_BLOB for a context (PROTOCOL.md §2.8, §2.9): blob_id 0 creates the shmem; otherwise the object
/// parked under blob_id is bound to res_id (a refused blob leaves it parked), or a USERPTR object is built over the
/// guest pages of a HOST3D_GUEST + USE_USERPTR blob. Callers hold <see cref="ContextState.Sync"/>.
/// </summary>
public static class BlobResolver
{
    public const uint OkNoData = 0x1100, ErrUnspec = 0x1200, ErrOutOfMemory = 0x1201, ErrInvalidResourceId = 0x1203, ErrInvalidParameter = 0x1205;

    /// <summary>Largest private response buffer per context (the biggest array answer, 512 caches, fits).</summary>
    public const int MaxResponseBuffer = 1 << 20;

    public static object Resolve(HandlerContext cx, CreateBlob c, ILogger log)
    {
        var state = cx.State;
        BlobRefused Refuse(uint error, string reason)
        {
            log.Information("CREATE_BLOB res {ResId} blob {BlobId} flags 0x{Flags:x} size 0x{Size:x} refused: {Reason}",
                c.ResId, c.BlobId, c.BlobFlags, c.Size, reason);
            return new BlobRefused(c.CtxId, c.ResId, error, reason);
        }

        if (c.BlobId >> 32 != 0) return Refuse(ErrInvalidParameter, "blob_id has bits above 32");
        if ((c.BlobFlags & VIRTIO_GPU_BLOB_FLAG_USE_SVM) != 0) return Refuse(ErrInvalidParameter, "USE_SVM blobs are not implemented");
        if (c.ResId == 0 || state.Objects.IsBound(c.ResId)) return Refuse(ErrInvalidResourceId, $"res_id {c.ResId} already bound in this context");
        bool mappable = (c.BlobFlags & VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) != 0;

        if (c.BlobId == 0)
        {
            if (c.BlobFlags != VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) return Refuse(ErrInvalidParameter, "shmem flags must be exactly MAPPABLE");
            if (c.BlobMem != VIRTIO_GPU_BLOB_MEM_HOST3D) return Refuse(ErrInvalidParameter, "shmem must be HOST3D");
            if (c.Size < 8 || c.Size > uint.MaxValue) return Refuse(ErrInvalidParameter, "shmem size outside 8..2^32-1");
            if (state.Shmem is not null) return Refuse(ErrInvalidParameter, "the context already has a shmem");
            if (!state.Objects.HasRoom()) return Refuse(ErrOutOfMemory, "object limit");
            ShmemRegion shmem;
            try
            {
                shmem = ShmemRegion.Create(c.Size, $"vhsakmt-shmem-{state.Info.VmId}-{c.CtxId}");
            }
            catch (IOException ex)
            {
                return Refuse(ErrOutOfMemory, $"shmem memfd: {ex.Message}");
            }
            state.Shmem = shmem;
            state.ResponseBuffer = new byte[Math.Clamp(shmem.AreaSize, 1024, MaxResponseBuffer)];
            state.Objects.AddBound(c.ResId, new ShmemObject(c.Size));
            log.Information("shmem created: {Size} bytes, response area {Area} bytes", c.Size, shmem.AreaSize);
            return new BlobCreated(c.CtxId, c.ResId, new BlobBacking(shmem.Fd, 0, c.Size), VIRTIO_GPU_MAP_CACHE_CACHED);
        }

        if (state.Objects.TryGetParked(c.BlobId, out var obj))
        {
            if (mappable && !obj.MappableAllowed) return Refuse(ErrInvalidParameter, $"{obj.Kind} may not be MAPPABLE");
            if (c.Size == 0 || c.Size > obj.PageRoundedSize) return Refuse(ErrInvalidParameter, $"size 0x{c.Size:x} exceeds the object ({obj})");
            BlobBacking? backing = null;
            if (mappable)
            {
                backing = obj switch
                {
                    MemoryObject m when cx.Kfd.TryGetMemoryBacking(m.Address, c.Size, out var mb) => new BlobBacking(mb.Fd, mb.FdOffset, c.Size),
                    PageObject p when c.Size <= p.Backing.Length => new BlobBacking(p.Backing.Fd, p.Backing.FdOffset, c.Size),
                    _ => null,
                };
                if (backing is null) return Refuse(ErrInvalidParameter, $"no fd range backs {obj} for 0x{c.Size:x} bytes");
            }
            state.Objects.Bind(c.ResId, obj);
            return new BlobCreated(c.CtxId, c.ResId, backing, mappable ? VIRTIO_GPU_MAP_CACHE_CACHED : VIRTIO_GPU_MAP_CACHE_NONE);
        }

        if ((c.BlobFlags & VIRTIO_GPU_BLOB_FLAG_USE_USERPTR) != 0)
        {
            if (c.BlobMem != VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST) return Refuse(ErrInvalidParameter, "USE_USERPTR needs HOST3D_GUEST");
            if (mappable) return Refuse(ErrInvalidParameter, "USERPTR may not be MAPPABLE");
            var total = GuestPageMapping.TotalLength(c.Entries);
            if (total is null) return Refuse(ErrInvalidParameter, "userptr entries missing or not page aligned");
            if (c.Size == 0 || c.Size > total) return Refuse(ErrInvalidParameter, $"size 0x{c.Size:x} exceeds the entries (0x{total:x})");
            if (!state.Objects.HasRoom()) return Refuse(ErrOutOfMemory, "object limit");
            var mapping = GuestPageMapping.TryMap(state.Info.GuestMemory, c.Entries, total.Value, out var why);
            if (mapping is null) return Refuse(ErrInvalidParameter, why ?? "guest pages not mappable");
            var u = new UserptrObject(mapping.Address, total.Value, mapping, (c.BlobFlags & VIRTIO_GPU_BLOB_FLAG_USERPTR_RDONLY) != 0);
            state.Objects.AddBound(c.ResId, u);
            cx.Children.SpawnRegion(u);
            return new BlobCreated(c.CtxId, c.ResId, null, VIRTIO_GPU_MAP_CACHE_NONE);
        }
        return Refuse(ErrInvalidParameter, $"no object parked under blob_id {c.BlobId}");
    }
}
