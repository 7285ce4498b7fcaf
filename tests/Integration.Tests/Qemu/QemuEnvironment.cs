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
    /// <summary>The host's QEMU 10.0 (bookworm-backports), used by <see cref="QemuRuntime.Host100"/> runs.</summary>
    public string HostQemu { get; }
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
        HostQemu = Environment.GetEnvironmentVariable("VHSAKMT_HOST_QEMU") is { Length: > 0 } q ? q : "/usr/bin/qemu-system-x86_64";
        HostQemuVersion = new Lazy<string?>(ReadHostQemuVersion);
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

    /// <summary>
    /// Null when <paramref name="runtime"/> can run here (on top of <see cref="MissingReason"/>), else why not:
    /// the host run needs the host's QEMU to be 10.0.x, the version issue 10 asks about.
    /// </summary>
    public string? MissingReason(QemuRuntime runtime)
    {
        if (MissingReason() is { } reason)
            return reason;
        if (runtime != QemuRuntime.Host100)
            return null;
        return HostQemuVersion.Value switch
        {
            null => $"host QEMU {HostQemu} missing; run .ci/setup-qemu.sh (installs qemu-system-x86 from bookworm-backports)",
            var v when !v.StartsWith("10.0.", StringComparison.Ordinal) => $"host QEMU {HostQemu} is {v}, want 10.0.x from bookworm-backports; run .ci/setup-qemu.sh",
            _ => null,
        };
    }

    private readonly Lazy<string?> HostQemuVersion;

    /// <summary>"10.0.2" from "QEMU emulator version 10.0.2 (Debian …)", or null when there is no such binary.</summary>
    private string? ReadHostQemuVersion()
    {
        if (!File.Exists(HostQemu))
            return null;
        var psi = new System.Diagnostics.ProcessStartInfo(HostQemu, "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {HostQemu}");
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            p.Kill();
            throw new TimeoutException($"{HostQemu} --version did not exit within 10 s");
        }
        var m = System.Text.RegularExpressions.Regex.Match(output, @"version (\d+\.\d+\.\d+)");
        return m.Success ? m.Groups[1].Value : $"unknown ({output.Trim()})";
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
