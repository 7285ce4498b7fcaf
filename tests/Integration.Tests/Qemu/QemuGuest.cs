using System.Diagnostics;
using System.Text;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>How the guest's virtio-gpu reaches the daemon.</summary>
public enum GpuFrontEnd
{
    /// <summary>No GPU device at all: checks the harness (boot, modules, client) without a backend.</summary>
    None,
    /// <summary>QEMU 11.1's generic vhost-user device: the one that carries a native context (SHMEM region).</summary>
    GenericVhostUser,
    /// <summary>QEMU's vhost-user-gpu-pci: no RESOURCE_BLOB/CONTEXT_INIT reach the guest.</summary>
    VhostUserGpuPci,
}

/// <summary>
/// One QEMU VM started in the trixie chroot (<c>chroot DIR qemu-system-x86_64 …</c>, in its own mount
/// namespace) or, for <see cref="QemuRuntime.Host100"/>, the host's QEMU with the same files seen at their
/// host paths; with the test kernel and initramfs; its serial console goes to a file that <see cref="ReadReport"/> parses.
/// </summary>
public sealed class QemuGuest : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly string _consoleHostPath;

    public string Name { get; }
    public string CommandLine { get; }

    /// <summary>sh script: $1 = chroot dir, then the command; /dev read-only so nothing can delete device nodes.</summary>
    private const string MountAndChroot =
        "root=\"$1\"; mount --bind /dev \"$root/dev\"; mount -o remount,bind,ro \"$root/dev\"; " +
        "mount -t proc proc \"$root/proc\"; exec chroot \"$@\"";

    /// <param name="runDirInChroot">a directory inside the chroot (path as seen from inside it)</param>
    /// <param name="socketInChroot">the daemon's socket, as seen from inside the chroot</param>
    public QemuGuest(QemuEnvironment env, string name, string runDirInChroot, string kernelInChroot, string initrdInChroot,
        GpuFrontEnd frontEnd, string? socketInChroot, int clients, int holdSeconds, string? crashAfterStep = null,
        QemuRuntime runtime = QemuRuntime.Chroot111)
    {
        // Everything lives inside the chroot directory; the host's QEMU reaches the same files by their host paths.
        var onHost = runtime == QemuRuntime.Host100;
        string P(string inChroot) => onHost ? Path.Combine(env.Chroot, inChroot.TrimStart('/')) : inChroot;
        Name = name;
        _consoleHostPath = Path.Combine(env.Chroot, runDirInChroot.TrimStart('/'), $"{name}.console");
        File.Delete(_consoleHostPath);
        var args = new List<string>
        {
            "-accel", env.Accelerator, "-smp", "1", "-m", "512M",
            "-display", "none", "-nic", "none", "-nodefaults", "-no-reboot",
            "-kernel", P(kernelInChroot), "-initrd", P(initrdInChroot),
            "-append", $"console=ttyS0 quiet panic=-1 no_timer_check vhsakmt.vm={name} vhsakmt.clients={clients} vhsakmt.hold={holdSeconds}"
                + (crashAfterStep is null ? "" : $" vhsakmt.crash={crashAfterStep}"),
            "-serial", $"file:{P(runDirInChroot)}/{name}.console",
        };
        if (frontEnd == GpuFrontEnd.None)
        {
            args.AddRange(["-machine", "q35"]);
        }
        else
        {
            // Guest RAM must be a shared memfd or the backend cannot map it (spec VHOST-USER.md §3).
            args.AddRange([
                "-machine", "q35,memory-backend=mem0",
                "-object", "memory-backend-memfd,id=mem0,share=on,size=512M",
                "-chardev", $"socket,id=vgpu,path={P(socketInChroot ?? throw new ArgumentNullException(nameof(socketInChroot)))}",
                "-device", frontEnd == GpuFrontEnd.GenericVhostUser
                    ? "vhost-user-test-device-pci,chardev=vgpu,virtio-id=16,num_vqs=2,config_size=16"
                    : "vhost-user-gpu-pci,chardev=vgpu",
            ]);
        }

        // QEMU needs /dev and /proc inside the chroot. They are mounted in a private mount namespace that
        // lives exactly as long as this QEMU: nothing is left mounted on the host, concurrent runs cannot
        // unmount each other's, and deleting the cache can never reach the host's /dev.
        var psi = new ProcessStartInfo(onHost ? env.HostQemu : "unshare") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (!onHost)
        {
            foreach (var a in new[] { "--mount", "--propagation", "private", "--", "sh", "-ec", MountAndChroot, "vhsakmt-qemu", env.Chroot, "qemu-system-x86_64" })
                psi.ArgumentList.Add(a);
        }
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        CommandLine = (onHost ? env.HostQemu : $"chroot {env.Chroot} qemu-system-x86_64") + " " + string.Join(' ', args);
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>QEMU's own stderr/stdout (its warnings, e.g. memory-table or backend errors).</summary>
    public string QemuOutput { get { lock (_stderr) return _stderr.ToString(); } }

    public GuestReport ReadReport()
    {
        if (!File.Exists(_consoleHostPath))
            return new GuestReport("");
        // QEMU keeps the file open for writing: open shared, read what is there now.
        using var fs = new FileStream(_consoleHostPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(fs, Encoding.UTF8);
        return new GuestReport(reader.ReadToEnd());
    }

    /// <summary>Polls the console until <paramref name="until"/> holds for the report or QEMU exits.</summary>
    public async Task<GuestReport> WaitForAsync(Func<GuestReport, bool> until, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var report = ReadReport();
            if (until(report))
                return report;
            if (_process.HasExited)
                return ReadReport(); // the last lines may have landed between the two reads
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{Name}: condition not met within {timeout.TotalSeconds:0} s.\n{Describe(report)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits for QEMU to exit (the guest powers off after its clients are done).</summary>
    public async Task<GuestReport> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name}: QEMU still running after {timeout.TotalSeconds:0} s.\n{Describe(ReadReport())}");
        }
        return ReadReport();
    }

    public string Describe(GuestReport report) =>
        $"--- {Name} report ---\n{report.Summary()}\n--- {Name} QEMU output ---\n{QemuOutput}\n--- {Name} command ---\n{CommandLine}\n--- {Name} console tail ---\n{Tail(report.Console, 3000)}";

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        _process.Dispose();
    }
}
