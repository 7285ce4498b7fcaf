using System.Diagnostics;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Stats;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;

namespace VhsaKmt.Bench.Suite;

/// <summary>
/// Start-up of the real daemon binary: `dotnet vhsakmtd.dll --socket-path … --backend simulated` from
/// process start until the socket accepts a connection, and until its start-up line is printed.
/// </summary>
public static class StartupProbe
{
    public static StartupFigure Measure(int runs)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "vhsakmtd.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("vhsakmtd.dll is not beside the bench", dll);
        var toSocket = new LatencyRecorder(runs);
        var toLine = new LatencyRecorder(runs);
        for (int i = 0; i < runs; i++)
        {
            var dir = Directory.CreateTempSubdirectory("vhsakmt-startup-").FullName;
            string socket = Path.Combine(dir, "s.sock");
            try
            {
                long t0 = Stopwatch.GetTimestamp();
                using var daemon = ChildProcess.Start("vhsakmtd", null,
                    [BenchExecutable.DotnetHost, dll, "--socket-path", socket, "--backend", "simulated", "--log-level", "warning"]);
                long deadline = Environment.TickCount64 + 30_000;
                while (!CanConnect(socket))
                {
                    if (Environment.TickCount64 > deadline || daemon.HasExited) throw new TimeoutException($"vhsakmtd did not listen within 30 s{daemon.StderrTail()}");
                    Thread.Sleep(1); // polling a file system path: there is no event to wait on
                }
                // Ticks are recorded as Stopwatch ticks, so the summary comes out in µs; the report shows ms.
                toSocket.Record(Stopwatch.GetTimestamp() - t0);
                daemon.ReadLine(TimeSpan.FromSeconds(30));
                toLine.Record(Stopwatch.GetTimestamp() - t0);
            }
            finally
            {
                try { Directory.Delete(dir, true); } catch (IOException) { /* daemon still removing its socket */ }
            }
        }
        return new StartupFigure("vhsakmtd (dotnet vhsakmtd.dll, simulated KFD)", Ms(toSocket.Summarize()), Ms(toLine.Summarize()));
    }

    private static LatencySummary Ms(LatencySummary us) =>
        us with { P50 = us.P50 / 1000, P99 = us.P99 / 1000, P999 = us.P999 / 1000, Mean = us.Mean / 1000, Min = us.Min / 1000, Max = us.Max / 1000, Histogram = [] };

    private static bool CanConnect(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            using var fd = UnixSocket.Connect(path);
            return true;
        }
        catch (LibcException)
        {
            return false;
        }
    }
}
