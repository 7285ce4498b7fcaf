using System.Text;
using Tmds.Linux;

namespace VhsaKmt.Transport.Interop;

/// <summary>memfd_create + ftruncate: anonymous shareable memory as an fd.</summary>
public static class MemFd
{
    public static unsafe FdHandle Create(string name, long size)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* p = nameBytes) fd = LibC.memfd_create(p, LibC.MFD_CLOEXEC);
        if (fd < 0) throw LibcException.FromErrno("memfd_create");
        var handle = FdHandle.Adopt(fd);
        if (LibC.ftruncate(fd, size) != 0)
        {
            var error = LibcException.FromErrno("ftruncate");
            handle.Dispose();
            throw error;
        }
        return handle;
    }
}
