using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace VhsaKmt.Native.Interop;

/// <summary>dup/pread over raw descriptors held in SafeHandles.</summary>
public static class FileDescriptors
{
    /// <summary>dup with CLOEXEC (fcntl F_DUPFD_CLOEXEC); the result is owned by the caller.</summary>
    public static SafeFileHandle Duplicate(SafeHandle fd) => new(DuplicateRaw(fd), ownsHandle: true);

    /// <summary>The one F_DUPFD_CLOEXEC call: the raw new fd, for the caller to wrap at once.</summary>
    internal static int DuplicateRaw(SafeHandle fd)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var n = fcntl((int)fd.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
            if (n < 0)
                throw new LibcException("fcntl(F_DUPFD_CLOEXEC)", errno);
            return n;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>pread until <paramref name="buffer"/> is full or EOF; returns bytes read.</summary>
    public static unsafe int PRead(SafeHandle fd, Span<byte> buffer, ulong offset)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var total = 0;
            fixed (byte* p = buffer)
            {
                while (total < buffer.Length)
                {
                    long n = pread((int)fd.DangerousGetHandle(), p + total, (Tmds.Linux.size_t)(buffer.Length - total),
                        (Tmds.Linux.off_t)(long)(offset + (ulong)total));
                    if (n < 0)
                    {
                        var e = errno;
                        if (e == Errno.EINTR) continue;
                        throw new LibcException("pread", e);
                    }
                    if (n == 0) break;
                    total += (int)n;
                }
            }
            return total;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
