using VhsaKmt.Bench.Stats;
using VhsaKmt.Bench.Suite;
using Xunit;

namespace VhsaKmt.Integration.Tests.Bench;

/// <summary>
/// Runs a bounded slice of the benchmark harness (bench/, ~30 s): floors, the full-stack NOP round trip in
/// both daemon modes, real commands, batching, scaling, allocation and start-up, each side a separate
/// process. No thresholds: it asserts that every figure was produced and is positive and finite, and that
/// RESULTS.md and the plot were written.
/// </summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public void Smoke_slice_produces_every_figure()
    {
        var outDir = Directory.CreateTempSubdirectory("vhsakmt-bench-smoke-").FullName;
        try
        {
            var repo = BenchRunner.FindRepository(AppContext.BaseDirectory);
            var log = new StringWriter();
            var r = BenchRunner.Run(SuiteOptions.SmokeRun(outDir), repo, "smoke test", log);

            Assert.NotEmpty(r.Floors);
            Assert.Contains(r.Floors, f => f.Kind == "eventfd");
            Assert.Contains(r.Floors, f => f.Kind == "spin");
            foreach (var f in r.Floors) AssertLatency(f.Latency, $"floor {f.Kind} {f.Regime}");

            Assert.Contains(r.Nop, n => n.DaemonMode == "blocking");
            Assert.Contains(r.Nop, n => n.DaemonMode == "polling");
            foreach (var n in r.Nop)
            {
                AssertLatency(n.Result.Latency, $"nop {n.DaemonMode}/{n.ClientWait}");
                AssertPositive(n.Ratio, "ratio");
                AssertPositive(n.Result.CcmdsPerSecond, "nop throughput");
            }

            Assert.NotNull(r.Real);
            Assert.Equal(6, r.Real!.Commands.Count);
            foreach (var c in r.Real.Commands) AssertLatency(c.Latency, c.Name);

            Assert.NotEmpty(r.Batched);
            foreach (var b in r.Batched) AssertPositive(b.CcmdsPerSecond, $"batch {b.Batch}x{b.InFlight}");

            Assert.NotEmpty(r.Scaling);
            foreach (var p in r.Scaling)
            {
                AssertPositive(p.Result.CcmdsPerSecond, $"scale {p.Result.Contexts}");
                AssertLatency(p.Result.OpenUs, "context create");
                AssertLatency(p.Result.CloseUs, "context destroy");
                Assert.True(double.IsFinite(p.RssBytesPerContext), "RSS per context is not finite");
                if (p.Result.Contexts == p.Result.Vms) continue;
                // Every N > V point has its same-load pair: V contexts with N / V in flight each.
                Assert.NotNull(p.SameLoadOneContextPerVm);
                Assert.Equal(p.Result.Vms, p.SameLoadOneContextPerVm!.Contexts);
                Assert.Equal(p.Result.Contexts / p.Result.Vms, p.SameLoadOneContextPerVm.InFlight);
                AssertPositive(p.SameLoadOneContextPerVm.CcmdsPerSecond, $"scale {p.Result.Contexts} same load");
                AssertPositive(p.VsOneContextPerVm, $"scale {p.Result.Contexts} vs 1 ctx/VM");
            }
            Assert.Contains(r.Scaling, p => p.SameLoadOneContextPerVm is not null);

            Assert.NotEmpty(r.Allocation);
            foreach (var a in r.Allocation)
            {
                Assert.True(a.Operations > 0, $"{a.Operation}: no operations measured");
                Assert.True(double.IsFinite(a.BytesPerOperation) && a.BytesPerOperation >= 0, $"{a.Operation}: {a.BytesPerOperation} B/op");
            }

            var startup = Assert.Single(r.Startup);
            AssertPositive(startup.ToSocketMs.P50, "start-up to socket");

            var md = File.ReadAllText(Path.Combine(outDir, "RESULTS.md"));
            Assert.Contains("## 2. Synchronous NOP round trip", md);
            Assert.Contains("| vs 1 ctx/VM | vs linear (N × 1 sync ctx) |", md);
            Assert.Contains("of the same load on one context per VM", md);
            var png = File.ReadAllBytes(Path.Combine(outDir, "results.png"));
            Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "results.png is not a PNG");
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    private static void AssertLatency(LatencySummary s, string what)
    {
        Assert.True(s.Count > 0, $"{what}: no samples");
        AssertPositive(s.P50, $"{what} p50");
        AssertPositive(s.P99, $"{what} p99");
        AssertPositive(s.P999, $"{what} p99.9");
        Assert.True(s.P50 <= s.P99 && s.P99 <= s.P999, $"{what}: percentiles out of order");
    }

    private static void AssertPositive(double v, string what) =>
        Assert.True(double.IsFinite(v) && v > 0, $"{what} = {v}");
}
