using VhsaKmt.Bench.Processes;

namespace VhsaKmt.Bench.Suite;

/// <summary>The daemon under test: a bench "daemon" child (the service hosted as vhsakmtd hosts it) on its own socket.</summary>
public sealed class DaemonProcess : IDisposable
{
    private static readonly TimeSpan Reply = TimeSpan.FromSeconds(20);
    private readonly ChildProcess _child;
    private readonly string _dir;

    private DaemonProcess(ChildProcess child, string dir, string socket, string mode)
    {
        _child = child;
        _dir = dir;
        Socket = socket;
        Mode = mode;
    }

    public string Socket { get; }
    public string Mode { get; }
    public double StartupMs { get; private init; }

    /// <summary>Start a daemon ("blocking" or "polling") pinned to <paramref name="cpu"/> (null: unpinned) and wait until it listens.</summary>
    public static DaemonProcess Start(string mode, int? cpu, int spinMicroseconds = 50, string? extraHocon = null)
    {
        var dir = Directory.CreateTempSubdirectory("vhsakmt-bench-").FullName;
        var socket = Path.Combine(dir, "vhsakmt.sock");
        var args = new List<string> { "daemon", socket, mode, spinMicroseconds.ToString() };
        if (extraHocon is not null)
        {
            string extra = Path.Combine(dir, "experiment.conf");
            File.WriteAllText(extra, extraHocon);
            args.Add(extra);
        }
        var child = ChildProcess.StartBench($"daemon-{mode}", cpu, args);
        try
        {
            var ready = child.WaitFor("READY ", TimeSpan.FromSeconds(60)).Split(' ');
            return new DaemonProcess(child, dir, socket, mode) { StartupMs = double.Parse(ready[^1], System.Globalization.CultureInfo.InvariantCulture) };
        }
        catch
        {
            child.Dispose();
            Directory.Delete(dir, true);
            throw;
        }
    }

    /// <summary>(managed bytes allocated so far, gen0 collections) inside the daemon.</summary>
    public (long Bytes, int Gen0) Allocated()
    {
        _child.Send("alloc");
        var parts = _child.WaitFor("ALLOC ", Reply).Split(' ');
        return (long.Parse(parts[0]), int.Parse(parts[1]));
    }

    /// <summary>Start the allocation sampler inside the daemon.</summary>
    public void StartSampling()
    {
        _child.Send("sample-start");
        _child.WaitFor("SAMPLING", Reply);
    }

    /// <summary>Stop the sampler: (type, sampled bytes), most first.</summary>
    public IReadOnlyList<(string Type, long Bytes)> StopSampling()
    {
        _child.Send("sample-stop");
        var text = _child.WaitFor("SAMPLES ", Reply);
        return text.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => { int eq = kv.LastIndexOf('='); return (kv[..eq], long.Parse(kv[(eq + 1)..])); }).ToList();
    }

    /// <summary>The daemon's resident set after a full GC (bytes).</summary>
    public long ResidentBytes()
    {
        _child.Send("rss");
        return long.Parse(_child.WaitFor("RSS ", Reply));
    }

    public void Dispose()
    {
        try
        {
            if (!_child.HasExited) _child.Send("quit");
            _child.WaitExit(TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            // Dispose below kills what did not stop by itself.
        }
        finally
        {
            _child.Dispose();
            try { Directory.Delete(_dir, true); } catch (IOException) { /* socket removed concurrently */ }
        }
    }
}
