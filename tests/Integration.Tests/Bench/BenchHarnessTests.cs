using System.Diagnostics;
using VhsaKmt.Bench.Stats;
using VhsaKmt.Bench.Workloads;
using Xunit;

namespace VhsaKmt.Integration.Tests.Bench;

/// <summary>Fast checks of the harness's own arithmetic and plumbing (the smoke test covers the processes).</summary>
public sealed class BenchHarnessTests
{
    private static long Us(double us) => (long)(us * Stopwatch.Frequency / 1_000_000);

    [Fact]
    public void Percentiles_come_from_the_sorted_samples()
    {
        var r = new LatencyRecorder(1000);
        // 1..1000 µs in reverse order: p50 = 500/501, p99 = 990, p99.9 = 999.
        for (int i = 1000; i >= 1; i--) r.Record(Us(i));
        var s = r.Summarize();
        Assert.Equal(1000, s.Count);
        Assert.InRange(s.P50, 499.5, 501.5);
        Assert.InRange(s.P99, 989.5, 990.5);
        Assert.InRange(s.P999, 998.5, 999.5);
        Assert.InRange(s.Min, 0.99, 1.01);
        Assert.InRange(s.Max, 999.9, 1000.1);
        Assert.InRange(s.Mean, 500.4, 500.6);
        Assert.Equal(1000, s.Histogram.Sum(b => b.Count));
    }

    [Fact]
    public void Recorder_stops_at_capacity_and_merges()
    {
        var a = new LatencyRecorder(2);
        a.Record(Us(1));
        a.Record(Us(2));
        a.Record(Us(3));
        Assert.True(a.IsFull);
        Assert.Equal(2, a.Count);
        var all = new LatencyRecorder(3);
        all.AddFrom(a);
        all.AddFrom(a);
        Assert.Equal(3, all.Count);
        Assert.InRange(all.Summarize().Max, 1.99, 2.01);
    }

    [Fact]
    public void Empty_recorder_is_not_a_valid_figure()
    {
        Assert.False(new LatencyRecorder(10).Summarize().IsValid);
    }

    [Fact]
    public void Client_options_survive_the_command_line()
    {
        var o = new ClientOptions
        {
            Socket = "/tmp/x.sock", Workload = "real", Vms = 4, Contexts = 256, Batch = 32, InFlight = 8, Wait = WaitMode.Spin,
            Samples = 123, MeasureMs = 456, WarmupMs = 78, Sync = true, Label = "scale",
        };
        Assert.Equal(o, ClientOptions.Parse(o.ToArgs().Skip(1)));
        Assert.Throws<ArgumentException>(() => ClientOptions.Parse(["bogus=1"]));
    }
}
