namespace VhsaKmt.Actors.Objects;

/// <summary>
/// One host object of a context. <see cref="Id"/> is the opaque, process-unique, non-zero id the guest sees (event
/// handles, queue ids); it is never a host pointer, and an id of another context resolves to nothing here.
/// </summary>
public abstract class KfdObject
{
    private static long s_nextId = 0x1000;

    protected KfdObject(ulong address, ulong size)
    {
        Id = (ulong)Interlocked.Increment(ref s_nextId);
        Address = address;
        Size = size;
    }

    public ulong Id { get; }
    public abstract ObjectKind Kind { get; }

    /// <summary>Host VA (also GPU VA and guest VA when mirrored); for NoAddress allocations the KFD handle.</summary>
    public ulong Address { get; }

    /// <summary>Bytes, kept as u64 (the reference truncates to u32, hazard #9).</summary>
    public ulong Size { get; }

    /// <summary>Low 32 bits of the blob id it was parked under (0 for objects created by CREATE_BLOB itself).</summary>
    public uint BlobId { get; internal set; }

    /// <summary>res_id it is bound to in this context; 0 while parked.</summary>
    public uint ResId { get; internal set; }

    /// <summary>The guest dropped its resource (detach); the object may still be busy (QUEUE_MEM).</summary>
    public bool GuestRemoved { get; internal set; }

    /// <summary>Host resources released; never released twice.</summary>
    public bool Released { get; internal set; }

    /// <summary>May back a MAPPABLE blob (PROTOCOL.md §2.9).</summary>
    public abstract bool MappableAllowed { get; }

    public ulong PageRoundedSize => (Size + 4095) & ~4095UL;

    /// <summary>[address, +size) lies inside this object's VA range (size 0 = just the address).</summary>
    public bool Covers(ulong address, ulong size) =>
        Address != 0 && address >= Address && address - Address < Math.Max(Size, 1) && size <= Size - (address - Address);

    public override string ToString() => $"{Kind}#{Id:x} va=0x{Address:x} size=0x{Size:x} blob={BlobId} res={ResId}";
}
