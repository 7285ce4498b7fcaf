using System.Diagnostics;
using Tmds.Linux;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Stats;

namespace VhsaKmt.Bench.Floors;

/// <summary>
/// Floor (a): two processes bounce a token over two eventfds with blocking reads — exactly one kick and one
/// call per round trip, nothing else. The eventfds are created here without CLOEXEC and inherited by both
/// children by number.
/// </summary>
public static unsafe class EventFdPingPong
{
    /// <summary>Value that tells the echo side to exit (a real token is always 1).</summary>
    private const ulong Stop = 1_000_000;

    public static FloorResult Run(Regime regime, int count, TimeSpan limit)
    {
        int ping = LibC.eventfd(0, 0), pong = LibC.eventfd(0, 0);
        if (ping < 0 || pong < 0) throw new InvalidOperationException($"eventfd failed: errno {LibC.errno}");
        try
        {
            using var echo = ChildProcess.StartBench("eventfd-echo", regime.ServerCpu, ["floor-eventfd-echo", ping.ToString(), pong.ToString()]);
            using var measurer = ChildProcess.StartBench("eventfd-ping", regime.ClientCpu,
                ["floor-eventfd-ping", pong.ToString(), ping.ToString(), count.ToString(), ((int)limit.TotalMilliseconds).ToString(), regime.Name]);
            var result = measurer.WaitResult<FloorResult>(limit + TimeSpan.FromSeconds(30));
            echo.WaitExit(TimeSpan.FromSeconds(10));
            return result;
        }
        finally
        {
            LibC.close(ping);
            LibC.close(pong);
        }
    }

    /// <summary>Child: read a token from <paramref name="rx"/>, write it to <paramref name="tx"/>, until Stop.</summary>
    public static int Echo(int rx, int tx)
    {
        ulong value = 0, one = 1;
        while (true)
        {
            if (LibC.read(rx, &value, 8) != 8) { if (LibC.errno == LibC.EINTR) continue; return 1; }
            if (value >= Stop) return 0;
            if (LibC.write(tx, &one, 8) != 8) return 1;
        }
    }

    /// <summary>Child: time <paramref name="count"/> round trips (after a warm-up), bounded by <paramref name="limitMs"/>.</summary>
    public static int Ping(int rx, int tx, int count, int limitMs, string regime)
    {
        var recorder = new LatencyRecorder(count);
        ulong value = 0, one = 1, stop = Stop;
        // One untimed round trip first: the echo child may still be starting (seconds on a loaded machine), and
        // that must not eat the time budget or the warm-up.
        if (LibC.write(tx, &one, 8) != 8) return 1;
        while (LibC.read(rx, &value, 8) != 8) { if (LibC.errno != LibC.EINTR) return 1; }
        var window = new MeasureWindow(limitMs);
        for (int i = 0; i < count + count / 10 && !window.Expired; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (LibC.write(tx, &one, 8) != 8) return 1;
            while (LibC.read(rx, &value, 8) != 8) { if (LibC.errno != LibC.EINTR) return 1; }
            long t1 = Stopwatch.GetTimestamp();
            if (window.PastWarmup(i, count / 10)) recorder.Record(t1 - t0);
        }
        LibC.write(tx, &stop, 8);
        BenchExecutable.EmitResult(new FloorResult("eventfd", regime, recorder.Summarize()));
        return 0;
    }
}
