using System.Diagnostics;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// QEMU in the chroot needs /dev (null, urandom, kvm) and /proc. /dev is bind-mounted read-only so that
/// deleting the cache dir while it is mounted cannot delete the host's device nodes. Mounts made here
/// are undone on dispose; mounts found already in place are left alone.
/// </summary>
public sealed class ChrootMounts : IDisposable
{
    private readonly List<string> _mounted = new();

    public ChrootMounts(string chroot)
    {
        var dev = Path.Combine(chroot, "dev");
        var proc = Path.Combine(chroot, "proc");
        if (!IsMountPoint(dev))
        {
            Run("mount", "--bind", "/dev", dev);
            _mounted.Add(dev);
            Run("mount", "-o", "remount,bind,ro", dev);
        }
        if (!IsMountPoint(proc))
        {
            Run("mount", "-t", "proc", "proc", proc);
            _mounted.Add(proc);
        }
    }

    public void Dispose()
    {
        for (var i = _mounted.Count - 1; i >= 0; i--)
            Run("umount", _mounted[i]);
        _mounted.Clear();
    }

    private static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        // /proc/self/mountinfo field 5 is the mount point (octal-escaped spaces do not occur in our paths).
        return File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == full);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Trim()}");
    }
}
