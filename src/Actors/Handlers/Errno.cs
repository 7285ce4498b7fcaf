namespace VhsaKmt.Actors.Handlers;

/// <summary>Negative errno values carried in <c>ret</c> for transport-level faults (PROTOCOL.md §7.2).</summary>
public static class Errno
{
    public const int EPERM = -1, EIO = -5, ENOMEM = -12, EFAULT = -14, EINVAL = -22, ENOSYS = -38;
}
