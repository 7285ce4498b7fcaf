using System.Diagnostics;
using System.Globalization;
using VhsaKmt.Actors.Diagnostics;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Robustness.Tests.Support;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using Xunit;
using Xunit.Abstractions;

namespace VhsaKmt.Robustness.Tests;

/// <summary>
/// Bounded soak: 16 guest processes (contexts) on 2 VMs, each looping mixed commands (queries, alloc + GPU map +
/// release, event create/set/release, a process exit and restart every few rounds) for VHSAKMT_SOAK_SECONDS
/// (default 8; CI keeps it short, a real soak sets minutes). Leak counters are sampled after every round of
/// process restarts: they must never grow past the first sample; RSS drift is reported, not asserted.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private static byte[] GetVer() => RawCcmd.Request(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer });

    [Fact]
    public async Task Sixteen_contexts_of_mixed_load_do_not_grow_the_leak_counters()
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("VHSAKMT_SOAK_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 8;
        using var daemon = new HostileDaemon();
        var gpus = new[] { new GuestGpu(daemon.Connect()), new GuestGpu(daemon.Connect()) };

        // Process-wide KFD pages (event page, doorbells) are made once; take the baseline after a warm-up process.
        var warm = HostileDaemon.Process(gpus[0], "warm-up");
        Assert.Equal(0, warm.OpenKfd().Ret);
        Assert.Equal(0, warm.CreateEvent(node: 1).Ret);
        warm.Exit();
        var baseline = daemon.Leaks();

        long ccmds = 0;
        int restarts = 0;
        var samples = new List<LeakSnapshot>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || samples.Count == 0)
        {
            var workers = Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            {
                var gpu = gpus[i % 2];
                var p = HostileDaemon.Process(gpu, $"soak-{i}");
                long n = 0;
                Assert.Equal(0, p.OpenKfd().Ret);
                for (int round = 0; round < 4; round++)
                {
                    Assert.Equal(0, p.Submit(CcmdFamily.QueryInfo, GetVer(), CcmdQueryInfoRsp.Size).Ret);
                    var a = p.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
                    Assert.Equal(0, a.Ret);
                    Assert.Equal(0, p.MapToGpuNodes(a.Va, 64 << 10, [1], a.Blob!.ResId).Ret);
                    Assert.Equal(0, p.UnmapFromGpu(a.Va).Ret);
                    var e = p.CreateEvent(node: 1);
                    Assert.Equal(0, e.Ret);
                    Assert.Equal(0, p.SetEvent(e).Ret);
                    p.Release(e.Blob!);
                    p.Release(a.Blob!);
                    n += 7;
                }
                p.Exit();
                return n;
            })).ToArray();
            var done = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
            ccmds += done.Sum();
            restarts += 16;
            daemon.AssertNoGrowth(baseline);
            samples.Add(daemon.Leaks());
        }

        var first = samples[0];
        var last = samples[^1];
        Assert.Empty(last.GrowthFrom(baseline));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak {clock.Elapsed.TotalSeconds:F1}s: {ccmds} ccmds, {restarts} process lifetimes, {samples.Count} samples; " +
            $"RSS {first.RssBytes >> 20} MiB -> {last.RssBytes >> 20} MiB (drift {(last.RssBytes - first.RssBytes) >> 10:+#;-#;0} KiB); final {last}"));
    }
}
