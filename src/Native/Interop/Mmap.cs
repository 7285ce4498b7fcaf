using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace VhsaKmt.Native.Interop;

/// <summary>mmap/munmap/mprotect/madvise wrappers. Failures that are host problems throw <see cref="LibcException"/>.</summary>
public static unsafe class Mmap
{
    /// <summary>
    /// Reserves [address, +length) PROT_NONE, NORESERVE, MAP_FIXED_NOREPLACE, MADV_DONTFORK. Returns null if any
    /// part of the range is already mapped (EEXIST, or an old kernel that ignored NOREPLACE and moved it).
    /// </summary>
    public static MappedRegion? TryReserve(ulong address, ulong length)
    {
        var flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE;
        var p = mmap((void*)address, (Tmds.Linux.size_t)length, PROT_NONE, flags, -1, 0);
        if (p == MAP_FAILED)
        {
            var e = errno;
            if (e == Errno.EEXIST) return null;
            throw new LibcException("mmap(reserve)", e);
        }
        if ((ulong)p != address)
        {
            // Pre-4.17 kernels treat NOREPLACE as a hint: the range was taken, give the stray mapping back.
            munmap(p, (Tmds.Linux.size_t)length);
            return null;
        }
        AdviseDontFork(address, length);
        return new MappedRegion(address, length, release: null);
    }

    /// <summary>Reserves <paramref name="length"/> bytes PROT_NONE where the kernel chooses (VA-only objects).</summary>
    public static MappedRegion ReserveAnywhere(ulong length)
    {
        var p = mmap(null, (Tmds.Linux.size_t)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            throw new LibcException("mmap(reserve anywhere)", errno);
        return new MappedRegion((ulong)p, length, release: null);
    }

    /// <summary>Puts fresh PROT_NONE reserved pages over [address, +length) (replacing whatever was there).</summary>
    public static void Rereserve(ulong address, ulong length)
    {
        var flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED;
        var p = mmap((void*)address, (Tmds.Linux.size_t)length, PROT_NONE, flags, -1, 0);
        if (p == MAP_FAILED)
            throw new LibcException("mmap(re-reserve)", errno);
        AdviseDontFork(address, length);
    }

    /// <summary>
    /// Maps [fdOffset, +length) of <paramref name="fd"/> shared (read/write, or read-only when <paramref name="writable"/>
    /// is false) at exactly <paramref name="address"/>, replacing the reservation there. Disposing the result calls <paramref name="release"/> (re-reserve).
    /// </summary>
    public static MappedRegion MapSharedFixed(SafeHandle fd, ulong fdOffset, ulong address, ulong length, Action<ulong, ulong> release,
        bool writable = true)
    {
        var p = MapShared(fd, fdOffset, (void*)address, length, MAP_SHARED | MAP_FIXED, writable);
        return new MappedRegion((ulong)p, length, release);
    }

    /// <summary>Maps [fdOffset, +length) of <paramref name="fd"/> shared read/write where the kernel chooses.</summary>
    public static MappedRegion MapShared(SafeHandle fd, ulong fdOffset, ulong length)
    {
        var p = MapShared(fd, fdOffset, null, length, MAP_SHARED, writable: true);
        return new MappedRegion((ulong)p, length, release: null);
    }

    private static void* MapShared(SafeHandle fd, ulong fdOffset, void* at, ulong length, int flags, bool writable)
    {
        // Read-only matters for fds the peer may have opened O_RDONLY: PROT_WRITE on those fails with EACCES.
        var prot = PROT_READ | (writable ? PROT_WRITE : 0);
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var p = mmap(at, (Tmds.Linux.size_t)length, prot, flags, (int)fd.DangerousGetHandle(),
                (Tmds.Linux.off_t)(long)fdOffset);
            if (p == MAP_FAILED)
                throw new LibcException("mmap(shared)", errno);
            return p;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    public static void Unmap(ulong address, ulong length)
    {
        if (munmap((void*)address, (Tmds.Linux.size_t)length) != 0)
            throw new LibcException("munmap", errno);
    }

    public static void Protect(ulong address, ulong length, bool read, bool write)
    {
        var prot = (read ? PROT_READ : 0) | (write ? PROT_WRITE : 0);
        if (mprotect((void*)address, (Tmds.Linux.size_t)length, prot) != 0)
            throw new LibcException("mprotect", errno);
    }

    /// <summary>Keeps the range out of children (a forked helper must not inherit guest-visible memory).</summary>
    public static void AdviseDontFork(ulong address, ulong length)
    {
        if (madvise((void*)address, (Tmds.Linux.size_t)length, MADV_DONTFORK) != 0)
            throw new LibcException("madvise(DONTFORK)", errno);
    }
}
