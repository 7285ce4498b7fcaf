using System.Runtime.InteropServices;
using Tmds.Linux;

namespace VhsaKmt.Native.Interop;

/// <summary>fstat of an open descriptor: its (device, inode) identity and, for a regular file, its size.</summary>
public static class FileStat
{
    /// <summary>(device, inode): tells whether a dma-buf fd names one of our memfds. Null when it cannot be read.</summary>
    public static (ulong Dev, ulong Ino)? Identity(SafeHandle fd)
    {
        if (fd.IsInvalid || fd.IsClosed) return null;
        return Fstat(fd, out var st) == 0 ? ((ulong)st.st_dev, (ulong)st.st_ino) : null;
    }

    /// <summary>
    /// Size of a regular file (memfd, shm, hugetlbfs file); null for other fd types. Throws when fstat fails: a
    /// region's file must be measured before it is mapped (touching past its end raises SIGBUS).
    /// </summary>
    public static long? RegularFileSize(SafeHandle fd)
    {
        int errno = Fstat(fd, out var st);
        if (errno != 0) throw new LibcException("fstat", errno);
        return LibC.S_ISREG(st.st_mode) ? (long)st.st_size : null;
    }

    /// <summary>0, or the errno of the failed fstat.</summary>
    private static unsafe int Fstat(SafeHandle fd, out stat st)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            stat s;
            int rc = LibC.fstat((int)fd.DangerousGetHandle(), &s);
            st = s;
            return rc == 0 ? 0 : LibC.errno;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
