using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VhsaKmt.Bench.Suite;

/// <summary>Where and when the numbers were taken.</summary>
public sealed record MachineInfo(int Cpus, string CpuModel, string Kernel, string Runtime, string Commit, DateTime Date, string LoadAverage)
{
    public static MachineInfo Collect(string repoDirectory)
    {
        string model = "unknown";
        try
        {
            model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? model;
        }
        catch (IOException) { /* not Linux-like: leave unknown */ }
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        // Other work on the machine shows in every tail: record how busy it was when the run started.
        string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        return new MachineInfo(Environment.ProcessorCount, model, kernel, RuntimeInformation.FrameworkDescription, GitCommit(repoDirectory), DateTime.UtcNow, load);
    }

    private static string GitCommit(string repo)
    {
        try
        {
            var psi = new ProcessStartInfo("git", ["-C", repo, "rev-parse", "--short", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            if (p is null) return "unknown";
            string sha = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            var dirty = new ProcessStartInfo("git", ["-C", repo, "status", "--porcelain", "--untracked-files=no"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var d = Process.Start(dirty);
            bool isDirty = d is not null && d.StandardOutput.ReadToEnd().Trim().Length > 0;
            d?.WaitForExit(5000);
            return sha.Length == 0 ? "unknown" : isDirty ? sha + " (+ uncommitted changes)" : sha;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }
}
