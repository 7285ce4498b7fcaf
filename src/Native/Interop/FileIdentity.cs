using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VhsaKmt.Native.Interop;

/// <summary>(device, inode) of an open descriptor: tells whether a dma-buf fd names one of our memfds.</summary>
public static class FileIdentity
{
    public static unsafe (ulong Dev, ulong Ino)? Of(SafeHandle fd)
    {
        if (fd.IsInvalid || fd.IsClosed) return null;
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            stat st;
            if (fstat((int)fd.DangerousGetHandle(), &st) != 0) return null;
            return ((ulong)st.st_dev, (ulong)st.st_ino);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
