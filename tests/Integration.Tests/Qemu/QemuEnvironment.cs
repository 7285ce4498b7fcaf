namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// Where the QEMU end-to-end prerequisites live (built by <c>.ci/setup-qemu.sh</c>) and whether they are
/// all there. Outside CI a missing piece skips the tests with its reason; with <c>CI=true</c> it fails them.
/// </summary>
public sealed class QemuEnvironment
{
    public string RepoRoot { get; }
    public string CacheDir { get; }
    /// <summary>The Debian trixie chroot holding QEMU 11.1.</summary>
    public string Chroot { get; }
    public string Kernel { get; }
    public string Initramfs { get; }
    /// <summary>QEMU accelerator: <c>tcg</c> by default (the machines' /dev/kvm is paravirtual, spec VHOST-USER.md §2).</summary>
    public string Accelerator { get; }
    /// <summary>Upper bound for one guest's whole life (boot, steps, power-off): ~10 s on an idle 2-core machine, ~40 s when it is loaded.</summary>
    public TimeSpan GuestTimeout { get; }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<QemuEnvironment> LazyCurrent = new(() => new QemuEnvironment());
    public static QemuEnvironment Current => LazyCurrent.Value;

    private QemuEnvironment()
    {
        RepoRoot = FindRepoRoot();
        CacheDir = Environment.GetEnvironmentVariable("VHSAKMT_QEMU_CACHE") is { Length: > 0 } c
            ? c
            : Path.Combine(RepoRoot, ".cache", "qemu");
        Chroot = Path.Combine(CacheDir, "trixie");
        Kernel = Path.Combine(CacheDir, "kernel", "vmlinuz");
        Initramfs = Path.Combine(CacheDir, "guest", "initramfs.cpio.gz");
        Accelerator = Environment.GetEnvironmentVariable("VHSAKMT_QEMU_ACCEL") is { Length: > 0 } a ? a : "tcg";
        GuestTimeout = TimeSpan.FromSeconds(
            int.TryParse(Environment.GetEnvironmentVariable("VHSAKMT_QEMU_TIMEOUT_S"), out var s) && s > 0 ? s : 120);
    }

    /// <summary>Null when everything is in place, else what is missing and how to get it.</summary>
    public string? MissingReason()
    {
        if (!OperatingSystem.IsLinux())
            return "QEMU end-to-end tests need Linux";
        if (!Environment.IsPrivilegedProcess)
            return "QEMU end-to-end tests need root (chroot, bind mounts)";
        var missing = new[] { Path.Combine(Chroot, "usr", "bin", "qemu-system-x86_64"), Path.Combine(Chroot, ".vhsakmt-ready"), Kernel, Initramfs }
            .Where(p => !File.Exists(p))
            .ToList();
        return missing.Count == 0
            ? null
            : $"QEMU end-to-end prerequisites missing ({string.Join(", ", missing)}); run .ci/setup-qemu.sh";
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VhsaKmt.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"VhsaKmt.sln not found above {AppContext.BaseDirectory}");
    }
}
