using Xunit;
using Serilog;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// Shared by every QEMU test: checks the prerequisites (fails with the reason under CI, where
/// <see cref="QemuFactAttribute"/> does not skip), places the kernel and initramfs inside the chroot,
/// and routes the process-wide Serilog logger to a capture.
/// </summary>
public sealed class QemuFixture : IDisposable
{
    /// <summary>Where the kernel and initramfs are, as seen from inside the chroot.</summary>
    public const string GuestDirInChroot = "/opt/vhsakmt-e2e";

    private readonly object _gate = new();
    private bool _prepared;
    private ILogger? _previousLogger;
    private readonly List<string> _runDirs = new();

    public QemuEnvironment Env { get; } = QemuEnvironment.Current;
    public DaemonLogCapture Log { get; } = new();
    public string KernelInChroot => $"{GuestDirInChroot}/vmlinuz";
    public string InitrdInChroot => $"{GuestDirInChroot}/initramfs.cpio.gz";

    /// <summary>Called first by every test: everything below happens once, on the first call.</summary>
    public void Require()
    {
        if (Env.MissingReason() is { } reason)
            throw new InvalidOperationException($"CI=true and {reason}");
        lock (_gate)
        {
            if (_prepared)
                return;
            var guestDir = Path.Combine(Env.Chroot, GuestDirInChroot.TrimStart('/'));
            Directory.CreateDirectory(guestDir);
            File.Copy(Env.Kernel, Path.Combine(guestDir, "vmlinuz"), overwrite: true);
            File.Copy(Env.Initramfs, Path.Combine(guestDir, "initramfs.cpio.gz"), overwrite: true);
            _prepared = true;
            _previousLogger = Serilog.Log.Logger;
            Serilog.Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(Log).CreateLogger();
        }
    }

    /// <summary>As <see cref="Require()"/>, and the QEMU of <paramref name="runtime"/> must be there too.</summary>
    public void Require(QemuRuntime runtime)
    {
        if (Env.MissingReason(runtime) is { } reason)
            throw new InvalidOperationException($"CI=true and {reason}");
        Require();
    }

    /// <summary>A fresh directory inside the chroot for one test's socket and consoles; returns its in-chroot path.</summary>
    public string NewRunDir()
    {
        var inChroot = $"/tmp/vk-{Guid.NewGuid():N}"[..16];
        Directory.CreateDirectory(HostPath(inChroot));
        lock (_gate)
            _runDirs.Add(HostPath(inChroot));
        return inChroot;
    }

    public string HostPath(string inChroot) => Path.Combine(Env.Chroot, inChroot.TrimStart('/'));

    public void Dispose()
    {
        lock (_gate)
        {
            if (_previousLogger is not null)
                Serilog.Log.Logger = _previousLogger;
            _prepared = false;
            // Consoles and sockets are in the tests' output already (QemuGuest.Describe).
            foreach (var dir in _runDirs)
                Directory.Delete(dir, recursive: true);
            _runDirs.Clear();
        }
    }
}

/// <summary>
/// The QEMU tests run alone (not in parallel with other test classes): they own the process-wide
/// Serilog logger while they run, and each boots VMs that need both CPUs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QemuCollection : ICollectionFixture<QemuFixture>
{
    public const string Name = "qemu";
}
