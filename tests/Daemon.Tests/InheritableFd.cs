using System.Runtime.InteropServices;

namespace VhsaKmt.Daemon.Tests;

/// <summary>Clears FD_CLOEXEC so a child process started afterwards inherits the descriptor at the same number.</summary>
public static class InheritableFd
{
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    public static void Allow(int fd)
    {
        var flags = Fcntl(fd, F_GETFD, 0);
        if (flags < 0 || Fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
            throw new InvalidOperationException($"fcntl({fd}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int cmd, int arg);
}
