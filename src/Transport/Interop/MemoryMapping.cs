using Tmds.Linux;

namespace VhsaKmt.Transport.Interop;

/// <summary>
/// An owned mmap'ed range (shared mapping of an fd, or an anonymous PROT_NONE reservation). Unmapped
/// once, on dispose or finalization. Access is bounds-checked spans; the pointer stays inside.
/// </summary>
public sealed unsafe class MemoryMapping : IDisposable
{
    private byte* _address;
    private readonly ulong _length;

    private MemoryMapping(byte* address, ulong length)
    {
        _address = address;
        _length = length;
        ResourceCounters.MappingCreated();
    }

    ~MemoryMapping() => Unmap();

    /// <summary>MAP_SHARED of [offset, offset+length) of <paramref name="fd"/>, read-write.</summary>
    public static MemoryMapping MapShared(FdHandle fd, ulong offset, ulong length, bool writable = true)
    {
        ValidateLength(length);
        int prot = LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0);
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            void* p = LibC.mmap(null, (size_t)length, prot, LibC.MAP_SHARED, fd.Fd, (long)offset);
            if (p == LibC.MAP_FAILED) throw LibcException.FromErrno("mmap");
            return new MemoryMapping((byte*)p, length);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>An inaccessible reservation (PROT_NONE, NORESERVE) to map into with <see cref="MapFixed"/>.</summary>
    public static MemoryMapping Reserve(ulong length)
    {
        ValidateLength(length);
        void* p = LibC.mmap(null, (size_t)length, LibC.PROT_NONE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (p == LibC.MAP_FAILED) throw LibcException.FromErrno("mmap(reserve)");
        return new MemoryMapping((byte*)p, length);
    }

    /// <summary>
    /// Inside a reservation: map [fdOffset, fdOffset+length) of <paramref name="fd"/> at <paramref name="offset"/>
    /// (MAP_FIXED replaces the reservation pages there). Range checked against this mapping.
    /// </summary>
    public void MapFixed(ulong offset, FdHandle fd, ulong fdOffset, ulong length, bool writable)
    {
        CheckRange(offset, length);
        int prot = LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0);
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            void* p = LibC.mmap(_address + offset, (size_t)length, prot, LibC.MAP_SHARED | LibC.MAP_FIXED, fd.Fd, (long)fdOffset);
            if (p == LibC.MAP_FAILED) throw LibcException.FromErrno("mmap(fixed)");
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>Inside a reservation: put [offset, offset+length) back to an inaccessible reservation.</summary>
    public void ResetToReserved(ulong offset, ulong length)
    {
        CheckRange(offset, length);
        void* p = LibC.mmap(_address + offset, (size_t)length, LibC.PROT_NONE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE | LibC.MAP_FIXED, -1, 0);
        if (p == LibC.MAP_FAILED) throw LibcException.FromErrno("mmap(reset)");
    }

    public ulong Length => _length;

    /// <summary>The mapping's address in this process (e.g. a front-end's "user address").</summary>
    public ulong Address => (ulong)_address;

    public bool IsDisposed => _address == null;

    /// <summary>A span over [offset, offset+length). Valid only while the mapping lives.</summary>
    public Span<byte> GetSpan(ulong offset, int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        CheckRange(offset, (ulong)length);
        return new Span<byte>(_address + offset, length);
    }

    /// <summary>A reference to a naturally aligned u16/u32/u64 inside the mapping, for atomic/volatile access.</summary>
    public ref T RefAt<T>(ulong offset) where T : unmanaged
    {
        CheckRange(offset, (ulong)sizeof(T));
        if (offset % (ulong)sizeof(T) != 0) throw new ArgumentException("unaligned access", nameof(offset));
        return ref *(T*)(_address + offset);
    }

    private void CheckRange(ulong offset, ulong length)
    {
        if (_address == null) throw new ObjectDisposedException(nameof(MemoryMapping));
        if (offset > _length || length > _length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset:x}, +{length:x}) outside mapping of {_length:x}");
    }

    private static void ValidateLength(ulong length)
    {
        if (length == 0 || length > long.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), length, "bad mapping length");
    }

    public void Dispose()
    {
        Unmap();
        GC.SuppressFinalize(this);
    }

    private void Unmap()
    {
        byte* p = _address;
        if (p == null) return;
        _address = null;
        LibC.munmap(p, (size_t)_length);
        ResourceCounters.MappingRemoved();
    }
}
