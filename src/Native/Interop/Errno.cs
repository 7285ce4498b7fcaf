namespace VhsaKmt.Native.Interop;

/// <summary>errno values this layer branches on (Linux x86-64/arm64 asm-generic numbering).</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14,
        EEXIST = 17, ENODEV = 19, EINVAL = 22;
}
