using Tmds.Linux;

namespace VhsaKmt.Transport.Interop;

/// <summary>fstat size of a regular file (memfd, shm, hugetlbfs file); null for other fd types.</summary>
public static class FileSize
{
    public static unsafe long? Of(FdHandle fd)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            stat st;
            if (LibC.fstat(fd.Fd, &st) != 0) throw LibcException.FromErrno("fstat");
            return LibC.S_ISREG(st.st_mode) ? (long)st.st_size : null;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
