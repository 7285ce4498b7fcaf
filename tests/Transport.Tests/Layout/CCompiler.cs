using System.Diagnostics;
using System.Text;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>Compiles a C program with the machine's gcc and runs it, with timeouts on both steps.</summary>
internal static class CCompiler
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Absolute path of gcc, or null when it is not installed.</summary>
    public static string? Path { get; } = FindOnPath("gcc");

    /// <summary>Compiles <paramref name="source"/> and returns the program's standard output.</summary>
    public static string CompileAndRun(string name, string source, IEnumerable<string> cflags)
    {
        var gcc = Path ?? throw new InvalidOperationException("gcc not found");
        var dir = Directory.CreateTempSubdirectory("vhsakmt-layout-");
        try
        {
            var c = System.IO.Path.Combine(dir.FullName, name + ".c");
            var exe = System.IO.Path.Combine(dir.FullName, name);
            File.WriteAllText(c, source);
            var args = new List<string> { "-std=gnu11", "-O0", "-w", "-o", exe, c };
            args.InsertRange(0, cflags);
            var (rc, _, err) = Run(gcc, args);
            if (rc != 0)
                throw new InvalidOperationException($"gcc failed ({rc}) for {name}.c:\n{err}\n--- source ---\n{source}");
            var (prc, output, perr) = Run(exe, []);
            if (prc != 0)
                throw new InvalidOperationException($"{name} exited with {prc}: {perr}");
            return output;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// <c>pkg-config --cflags</c> of a package, split into arguments; <paramref name="fallback"/> when pkg-config or
    /// the package's .pc file is missing.
    /// </summary>
    public static IReadOnlyList<string> PkgConfigCflags(string package, params string[] fallback)
    {
        var pkgConfig = FindOnPath("pkg-config");
        if (pkgConfig is null)
            return fallback;
        var (rc, output, _) = Run(pkgConfig, ["--cflags", package]);
        return rc == 0 ? output.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : fallback;
    }

    private static (int Rc, string Out, string Err) Run(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(StepTimeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {StepTimeout}");
        }
        p.WaitForExit(); // drains the async readers
        lock (stdout)
        lock (stderr)
            return (p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static string? FindOnPath(string exe)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, exe);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
