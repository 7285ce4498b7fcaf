using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VhsaKmt.Native.Interop;

/// <summary>An owned memfd (anonymous shared memory file) of a fixed size.</summary>
public sealed class Memfd : SafeHandleZeroOrMinusOneIsInvalid
{
    private Memfd() : base(ownsHandle: true) { }

    /// <summary>Size in bytes, fixed at creation.</summary>
    public ulong Size { get; private set; }

    public int Fd => (int)handle;

    /// <summary>
    /// Creates a CLOEXEC memfd of <paramref name="size"/> bytes. With <paramref name="seal"/> its size is sealed
    /// (SHRINK|GROW|SEAL) so a peer that receives the fd cannot truncate it under our mappings (SIGBUS).
    /// </summary>
    public static unsafe Memfd Create(string name, ulong size, bool seal = true)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* p = nameBytes)
            fd = memfd_create(p, MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0u));
        if (fd < 0)
            throw new LibcException("memfd_create", errno);
        var m = new Memfd { Size = size };
        m.SetHandle(fd);
        ResourceCounters.MemfdCreated();
        if (ftruncate(fd, (off_t)(long)size) != 0)
        {
            var e = errno;
            m.Dispose();
            throw new LibcException("ftruncate", e);
        }
        if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        {
            var e = errno;
            m.Dispose();
            throw new LibcException("fcntl(F_ADD_SEALS)", e);
        }
        return m;
    }

    /// <summary>Current seals (F_GET_SEALS).</summary>
    public int Seals
    {
        get
        {
            var s = fcntl(Fd, F_GET_SEALS);
            if (s < 0) throw new LibcException("fcntl(F_GET_SEALS)", errno);
            return s;
        }
    }

    /// <summary>A new owned descriptor for the same file (CLOEXEC).</summary>
    public SafeFileHandle Duplicate() => FileDescriptors.Duplicate(this);

    protected override bool ReleaseHandle()
    {
        ResourceCounters.MemfdReleased();
        return close((int)handle) == 0;
    }
}
