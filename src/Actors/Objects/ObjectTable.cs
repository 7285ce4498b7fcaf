namespace VhsaKmt.Actors.Objects;

/// <summary>Why a table operation was refused (guest-caused; mapped to ccmd / virtio errors by the caller).</summary>
public enum TableStatus { Ok, BadBlobId, BlobIdInUse, ResIdInUse, NotFound, TooManyObjects }

/// <summary>
/// A context's object bookkeeping (PROTOCOL.md §5.1): the blob table (blob_id → parked object), the resource
/// table (res_id → bound object), the deferred list (dropped by the guest but still busy, kept out of the res_id
/// table so a reused res_id never meets a stale entry, §5.3) and the list of every live object. Not thread-safe:
/// callers hold <see cref="Context.ContextState.Sync"/>.
/// </summary>
public sealed class ObjectTable(int maxObjects)
{
    private readonly Dictionary<uint, KfdObject> _parked = new();
    private readonly Dictionary<uint, KfdObject> _bound = new();
    private readonly List<KfdObject> _live = new();
    private readonly HashSet<uint> _usedBlobIds = new();

    public int MaxObjects { get; } = maxObjects;
    public int Count => _live.Count;
    public IReadOnlyList<KfdObject> Live => _live;
    public int ParkedCount => _parked.Count;
    public int BoundCount => _bound.Count;

    /// <summary>Checks a ccmd blob_id: non-zero, &lt; 2^32, not parked / used before.</summary>
    public TableStatus CheckNewBlobId(ulong blobId)
    {
        if (blobId == 0 || blobId >> 32 != 0) return TableStatus.BadBlobId;
        if (_parked.ContainsKey((uint)blobId) || _usedBlobIds.Contains((uint)blobId)) return TableStatus.BlobIdInUse;
        return _live.Count >= MaxObjects ? TableStatus.TooManyObjects : TableStatus.Ok;
    }

    public bool HasRoom(int extra = 1) => _live.Count + extra <= MaxObjects;

    /// <summary>Parks a new object under its blob id (checked with <see cref="CheckNewBlobId"/> first).</summary>
    public void Park(ulong blobId, KfdObject obj)
    {
        var id = (uint)blobId;
        if (!_parked.TryAdd(id, obj))
            throw new Supervision.ContextInvariantException($"blob id {id} parked twice");
        _usedBlobIds.Add(id);
        obj.BlobId = id;
        _live.Add(obj);
    }

    /// <summary>Adds an object created directly bound (USERPTR, shmem, DMA_BUF).</summary>
    public void AddBound(uint resId, KfdObject obj)
    {
        if (!_bound.TryAdd(resId, obj))
            throw new Supervision.ContextInvariantException($"res_id {resId} bound twice");
        obj.ResId = resId;
        _live.Add(obj);
    }

    public bool IsBound(uint resId) => _bound.ContainsKey(resId);

    public bool TryGetParked(ulong blobId, out KfdObject obj)
    {
        obj = null!;
        return blobId >> 32 == 0 && _parked.TryGetValue((uint)blobId, out obj!);
    }

    /// <summary>Moves a parked object to the resource table (CREATE_BLOB resolution).</summary>
    public void Bind(uint resId, KfdObject obj)
    {
        if (!_parked.Remove(obj.BlobId, out var parked) || !ReferenceEquals(parked, obj))
            throw new Supervision.ContextInvariantException($"bind of {obj} that is not parked");
        if (!_bound.TryAdd(resId, obj))
            throw new Supervision.ContextInvariantException($"res_id {resId} bound twice");
        obj.ResId = resId;
    }

    public bool TryGetBound(uint resId, out KfdObject obj)
    {
        obj = null!;
        return resId != 0 && _bound.TryGetValue(resId, out obj!);
    }

    /// <summary>The object bound to <paramref name="resId"/> if it is a <typeparamref name="T"/>.</summary>
    public T? Bound<T>(uint resId) where T : KfdObject => TryGetBound(resId, out var o) ? o as T : null;

    /// <summary>Removes the res_id binding (detach): the object stays live until released.</summary>
    public KfdObject? Unbind(uint resId)
    {
        if (resId == 0 || !_bound.Remove(resId, out var obj)) return null;
        obj.GuestRemoved = true;
        return obj;
    }

    /// <summary>Forgets a released object everywhere.</summary>
    public void Remove(KfdObject obj)
    {
        if (obj.ResId != 0 && _bound.TryGetValue(obj.ResId, out var b) && ReferenceEquals(b, obj)) _bound.Remove(obj.ResId);
        if (obj.BlobId != 0 && _parked.TryGetValue(obj.BlobId, out var p) && ReferenceEquals(p, obj)) _parked.Remove(obj.BlobId);
        _live.Remove(obj);
    }

    /// <summary>The live memory-like object (HOST_MEM / QUEUE_MEM / USERPTR) wholly containing [address, +size).</summary>
    public KfdObject? FindMemory(ulong address, ulong size)
    {
        foreach (var o in _live)
            if (o is MemoryObject { Placement: not MemoryPlacement.NoAddress } or UserptrObject && o.Covers(address, size))
                return o;
        return null;
    }

    /// <summary>A live event of this context by its opaque id.</summary>
    public EventObject? FindEvent(ulong id)
    {
        foreach (var o in _live)
            if (o is EventObject e && e.Id == id) return e;
        return null;
    }

    public IEnumerable<T> OfType<T>() where T : KfdObject
    {
        foreach (var o in _live)
            if (o is T t) yield return t;
    }
}
