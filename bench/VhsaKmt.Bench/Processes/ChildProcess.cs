using System.Diagnostics;
using System.Text.Json;

namespace VhsaKmt.Bench.Processes;

/// <summary>
/// A child process of the bench (this same program in another mode, or vhsakmtd), optionally pinned to one
/// CPU with taskset. Lines on its stdout starting with "RESULT " carry JSON; other lines are kept for the
/// log. Dispose kills it (and its children) if it is still running, so no run leaves processes behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const string ResultPrefix = "RESULT ";
    private readonly Process _process;
    private readonly BlockingQueue _lines = new();
    private readonly List<string> _stderr = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.OutputDataReceived += (_, e) => _lines.Add(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) { if (_stderr.Count < 200) _stderr.Add(e.Data); }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public DateTime StartTime { get; private init; }

    /// <summary>Start this bench program with <paramref name="args"/> (mode first), pinned to <paramref name="cpu"/> when given.</summary>
    public static ChildProcess StartBench(string name, int? cpu, IEnumerable<string> args) =>
        Start(name, cpu, BenchExecutable.Command(args));

    /// <summary>Start any program, pinned to <paramref name="cpu"/> when given.</summary>
    public static ChildProcess Start(string name, int? cpu, IReadOnlyList<string> command, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        IEnumerable<string> argv = command;
        if (cpu is int c) argv = new[] { "taskset", "-c", c.ToString() }.Concat(command);
        var all = argv.ToList();
        psi.FileName = all[0];
        foreach (var a in all.Skip(1)) psi.ArgumentList.Add(a);
        // Quiet, deterministic children: no tiered-compilation surprises in the middle of a measurement.
        psi.Environment["DOTNET_TieredPGO"] = "1";
        psi.Environment["DOTNET_TC_CallCountThreshold"] = "30";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var start = DateTime.UtcNow;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        return new ChildProcess(p, name) { StartTime = start };
    }

    /// <summary>Send one control line to the child's stdin.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Next stdout line (any kind), or throw after <paramref name="timeout"/>.</summary>
    public string ReadLine(TimeSpan timeout)
    {
        var line = _lines.Take(timeout) ?? throw new TimeoutException($"{Name}: no output within {timeout.TotalSeconds:0} s{StderrTail()}");
        if (line == BlockingQueue.EndOfStream) throw new InvalidOperationException($"{Name} exited ({ExitCodeText()}){StderrTail()}");
        return line;
    }

    /// <summary>Wait for the line that starts with <paramref name="prefix"/>; returns the rest.</summary>
    public string WaitFor(string prefix, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            long left = Math.Max(1, deadline - Environment.TickCount64);
            var line = ReadLine(TimeSpan.FromMilliseconds(left));
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line[prefix.Length..];
            if (Environment.TickCount64 >= deadline) throw new TimeoutException($"{Name}: no '{prefix}' within {timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Wait for the next RESULT line and deserialize it.</summary>
    public T WaitResult<T>(TimeSpan timeout) =>
        JsonSerializer.Deserialize<T>(WaitFor(ResultPrefix, timeout), BenchJson.Options)
        ?? throw new InvalidDataException($"{Name}: empty result");

    /// <summary>Wait for a normal exit; kill after <paramref name="timeout"/>.</summary>
    public int WaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The child's resident set size from /proc (bytes), or -1 when gone.</summary>
    public long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
            }
        }
        catch (IOException) { return -1; }
        return -1;
    }

    public string StderrTail()
    {
        lock (_stderr) return _stderr.Count == 0 ? "" : "; stderr: " + string.Join(" | ", _stderr.TakeLast(8));
    }

    private string ExitCodeText() => _process.HasExited ? $"code {_process.ExitCode}" : "still running";

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { /* already gone between the check and the kill */ }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                try { _process.StandardInput.Close(); } catch (IOException) { /* child already closed its end */ }
                if (!_process.WaitForExit(TimeSpan.FromSeconds(3))) Kill();
            }
            _process.WaitForExit(TimeSpan.FromSeconds(3));
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Unbounded line queue with timed take; null from the reader means end of stream.</summary>
    private sealed class BlockingQueue
    {
        public const string EndOfStream = "\0EOF";
        private readonly Queue<string> _queue = new();
        private readonly SemaphoreSlim _count = new(0);

        public void Add(string? line)
        {
            lock (_queue) _queue.Enqueue(line ?? EndOfStream);
            _count.Release();
        }

        public string? Take(TimeSpan timeout)
        {
            if (!_count.Wait(timeout)) return null;
            lock (_queue)
            {
                var line = _queue.Dequeue();
                // End of stream stays readable for every later caller.
                if (line == EndOfStream) { _queue.Enqueue(line); _count.Release(); }
                return line;
            }
        }
    }
}
