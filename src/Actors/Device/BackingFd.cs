using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace VhsaKmt.Actors.Device;

/// <summary>Duplicates an fd the device must keep beyond the lifetime of its owner (BlobBacking contract).</summary>
public static class BackingFd
{
    public static SafeFileHandle Duplicate(SafeHandle fd)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            int dup = LibC.fcntl((int)fd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0);
            if (dup < 0) throw new IOException($"fcntl(F_DUPFD_CLOEXEC) failed, errno {Marshal.GetLastPInvokeError()}");
            return new SafeFileHandle(dup, ownsHandle: true);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
