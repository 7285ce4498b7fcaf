using System.Diagnostics;
using Tmds.Linux;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Stats;

namespace VhsaKmt.Bench.Floors;

/// <summary>
/// Floor (b): two processes bounce a sequence number through one shared page, each spinning on the other's
/// word (with sched_yield between looks, as the ROCm guest spins on seqno) — the polling floor: no syscall
/// on the path when the sides are on different CPUs, a yield-driven switch when they share one.
/// </summary>
public static unsafe class SpinPingPong
{
    private const long Stop = -1;
    private const int PongOffset = 64;

    public static FloorResult Run(Regime regime, int count, TimeSpan limit)
    {
        int fd;
        fixed (byte* name = "bench-spin\0"u8) fd = LibC.memfd_create(name, 0);
        if (fd < 0 || LibC.ftruncate(fd, 4096) != 0) throw new InvalidOperationException($"memfd failed: errno {LibC.errno}");
        try
        {
            using var echo = ChildProcess.StartBench("spin-echo", regime.ServerCpu, ["floor-spin-echo", fd.ToString(), ((int)limit.TotalMilliseconds + 20_000).ToString()]);
            using var measurer = ChildProcess.StartBench("spin-ping", regime.ClientCpu,
                ["floor-spin-ping", fd.ToString(), count.ToString(), ((int)limit.TotalMilliseconds).ToString(), regime.Name]);
            var result = measurer.WaitResult<FloorResult>(limit + TimeSpan.FromSeconds(30));
            echo.WaitExit(TimeSpan.FromSeconds(10));
            return result;
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static long* Map(int fd)
    {
        void* p = LibC.mmap(null, 4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        if (p == (void*)-1) throw new InvalidOperationException($"mmap failed: errno {LibC.errno}");
        return (long*)p;
    }

    /// <summary>Child: copy each new ping value to pong until Stop or <paramref name="limitMs"/> passes.</summary>
    public static int Echo(int fd, int limitMs)
    {
        long* ping = Map(fd);
        long* pong = (long*)((byte*)ping + PongOffset);
        long last = 0;
        long deadline = Stopwatch.GetTimestamp() + limitMs * Stopwatch.Frequency / 1000;
        int spins = 0;
        while (true)
        {
            long v = Volatile.Read(ref *ping);
            if (v == Stop) return 0;
            if (v != last)
            {
                last = v;
                Volatile.Write(ref *pong, v);
                spins = 0;
                continue;
            }
            if (++spins > 64) { LibC.sched_yield(); if ((spins & 1023) == 0 && Stopwatch.GetTimestamp() > deadline) return 1; }
        }
    }

    /// <summary>Child: time round trips through the shared page.</summary>
    public static int Ping(int fd, int count, int limitMs, string regime)
    {
        long* ping = Map(fd);
        long* pong = (long*)((byte*)ping + PongOffset);
        var recorder = new LatencyRecorder(count);
        // One untimed round trip first (seq 1): the echo child may still be starting, and that must not eat the
        // time budget or the warm-up.
        Volatile.Write(ref *ping, 1);
        while (Volatile.Read(ref *pong) != 1) LibC.sched_yield();
        var window = new MeasureWindow(limitMs);
        for (long seq = 2; seq <= count + count / 10 + 1 && !window.Expired; seq++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Volatile.Write(ref *ping, seq);
            int spins = 0;
            while (Volatile.Read(ref *pong) != seq)
            {
                if (++spins > 64) LibC.sched_yield();
            }
            long t1 = Stopwatch.GetTimestamp();
            if (window.PastWarmup(seq - 2, count / 10)) recorder.Record(t1 - t0);
        }
        Volatile.Write(ref *ping, Stop);
        BenchExecutable.EmitResult(new FloorResult("spin", regime, recorder.Summarize()));
        return 0;
    }
}
