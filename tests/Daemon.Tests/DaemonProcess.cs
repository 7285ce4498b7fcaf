using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VhsaKmt.Daemon.Tests;

/// <summary>
/// Runs the built vhsakmtd (vhsakmtd.dll sits next to the tests through the ProjectReference) as a
/// real child process with captured stdout/stderr. Every wait is bounded; Dispose kills a survivor.
/// </summary>
public sealed partial class DaemonProcess : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly BlockingCollection<string> _stdout = new();
    private readonly BlockingCollection<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdoutAll = new();
    private readonly ConcurrentQueue<string> _stderrAll = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static string DaemonDll => Path.Combine(AppContext.BaseDirectory, "vhsakmtd.dll");

    /// <summary>The dotnet host running these tests (so the daemon runs on the same runtime), else PATH's.</summary>
    private static string DotnetHost =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    private DaemonProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env)
    {
        var info = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DaemonDll);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        // The test runner's environment must not change the daemon's output format.
        info.Environment.Remove("JOURNAL_STREAM");
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
            info.Environment[key] = value;

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Collect(e.Data, _stdout, _stdoutAll, _stdoutClosed);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data, _stderr, _stderrAll, _stderrClosed);
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static DaemonProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null)
        => new(args, env);

    /// <summary>Runs to completion and returns (exit code, stdout lines, stderr lines).</summary>
    public static (int ExitCode, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr) Run(params string[] args)
    {
        using var p = Start(args);
        var code = p.WaitForExit(DefaultTimeout);
        return (code, p.StdoutLines, p.StderrLines);
    }

    public IReadOnlyList<string> StdoutLines => _stdoutAll.ToArray();
    public IReadOnlyList<string> StderrLines => _stderrAll.ToArray();
    public bool HasExited => _process.HasExited;
    public int Pid => _process.Id;

    /// <summary>Waits for the process to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"vhsakmtd did not exit within {timeout}; stderr:\n{string.Join('\n', StderrLines)}");
        Task.WaitAll([_stdoutClosed.Task, _stderrClosed.Task], timeout);
        return _process.ExitCode;
    }

    /// <summary>The first stdout line matching <paramref name="match"/>, or null if the stream ended or timed out.</summary>
    public string? WaitForStdout(Func<string, bool> match, TimeSpan timeout) => WaitFor(_stdout, match, timeout);

    /// <summary>The first stderr line matching <paramref name="match"/>, or null if the stream ended or timed out.</summary>
    public string? WaitForStderr(Func<string, bool> match, TimeSpan timeout) => WaitFor(_stderr, match, timeout);

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(DefaultTimeout);
        }
        _process.Dispose();
    }

    private static string? WaitFor(BlockingCollection<string> lines, Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                return null;
            try
            {
                if (!lines.TryTake(out var line, left))
                    return null;
                if (match(line))
                    return line;
            }
            catch (InvalidOperationException) when (lines.IsCompleted)
            {
                return null; // the stream closed: the process has gone
            }
        }
    }

    private static void Collect(string? line, BlockingCollection<string> live, ConcurrentQueue<string> all, TaskCompletionSource closed)
    {
        if (line is null)
        {
            live.CompleteAdding();
            closed.TrySetResult();
            return;
        }
        all.Enqueue(line);
        live.Add(line);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
