using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using VhsaKmt.Actors.Metrics;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using Xunit;

namespace VhsaKmt.Operations.Tests;

[Collection(OperationsCollection.Name)]
public sealed class MetricsTests
{
    [Fact]
    public async Task A_real_scrape_shows_per_vm_and_per_context_values_and_live_objects_return_to_zero()
    {
        await using var d = await OperationsDaemon.StartAsync();
        var gpuA = new GuestGpu(d.Connect());
        var a1 = OperationsDaemon.Process(gpuA, "rocminfo");
        var a2 = OperationsDaemon.Process(gpuA, "clinfo");
        var vmA = (await d.DevicesAsync()).Keys.Single();
        var gpuB = new GuestGpu(d.Connect());
        var b1 = OperationsDaemon.Process(gpuB, "pytorch");
        var vmB = (await d.DevicesAsync()).Keys.Single(k => k != vmA);
        Assert.Equal(0, a1.OpenKfd().Ret);
        Assert.Equal(0, b1.OpenKfd().Ret);
        Assert.Equal(0, a1.AllocMemory(0, 0x4000, HsaMemFlags.HostAccess).Ret);
        Assert.Equal(0, b1.AllocMemory(0, 0x1000, HsaMemFlags.HostAccess).Ret);
        Assert.Equal(0, b1.AllocMemory(0, 0x1000, HsaMemFlags.HostAccess).Ret);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(d.MetricsUrl);
        var m = PrometheusText.Parse(text);

        Assert.Equal(2, m.Sum("vhsakmt_contexts_created_total", ("vm", vmA)));
        Assert.Equal(1, m.Sum("vhsakmt_contexts_created_total", ("vm", vmB)));
        Assert.Equal(1, m.Sum("vhsakmt_contexts_created_total", ("vm", vmB), ("process", "pytorch")));
        Assert.Equal(3, m.Sum("vhsakmt_contexts_live"));
        Assert.Equal(a1.LastSeqno, m.Sum("vhsakmt_context_ccmds_total", ("vm", vmA), ("ctx", Ctx(a1))));
        Assert.Equal(b1.LastSeqno, m.Sum("vhsakmt_context_ccmds_total", ("vm", vmB), ("ctx", Ctx(b1))));
        Assert.Equal(0, m.Sum("vhsakmt_context_ccmds_total", ("vm", vmA), ("ctx", Ctx(a2))));
        Assert.Equal(1, m.Sum("vhsakmt_objects_live", ("vm", vmA), ("ctx", Ctx(a1)), ("kind", "memory")));
        Assert.Equal(2, m.Sum("vhsakmt_objects_live", ("vm", vmB), ("ctx", Ctx(b1)), ("kind", "memory")));
        Assert.True(m.Sum("vhsakmt_memory_allocated_bytes", ("vm", vmA), ("ctx", Ctx(a1))) >= 0x4000);
        Assert.Equal(2, m.Sum("vhsakmt_virtio_gpu_commands_total", ("vm", vmA), ("type", "ctx_create"), ("result", "ok")));
        Assert.Equal(1, m.Sum("vhsakmt_hypervisor_connects_total", ("vm", vmB)));
        Assert.True(m.Sum("vhsakmt_fences_retired_total", ("vm", vmB)) >= b1.LastSeqno, "every ccmd SUBMIT_3D carried a fence");
        Assert.Equal(1, m.Sum("vhsakmt_ccmds_total", ("vm", vmA), ("ctx", Ctx(a1)), ("family", "query_info"), ("subtype", "open_kfd"), ("result", "ok")));
        Assert.Equal(1, m.Sum("vhsakmt_ccmds_total", ("vm", vmA), ("ctx", Ctx(a1)), ("family", "memory"), ("subtype", "alloc"), ("result", "ok")));
        Assert.Equal(b1.LastSeqno, m.Sum("vhsakmt_ccmds_total", ("vm", vmB), ("ctx", Ctx(b1))));
        Assert.Equal(0, m.Sum("vhsakmt_ccmds_total", ("vm", vmA), ("ctx", Ctx(a2))));
        Assert.Equal(a1.LastSeqno, m.Sum("vhsakmt_ccmd_duration_seconds_count", ("vm", vmA), ("ctx", Ctx(a1))));

        a1.Exit();
        a2.Exit();
        b1.Exit();
        await OperationsDaemon.Eventually(() => Task.FromResult(LiveContexts.Count == 0), "contexts stopped");
        m = PrometheusText.Parse(await http.GetStringAsync(d.MetricsUrl));
        Assert.Equal(0, m.Sum("vhsakmt_contexts_live"));
        Assert.Equal(0, m.Sum("vhsakmt_objects_live"));
        Assert.Equal(2, m.Sum("vhsakmt_contexts_destroyed_total", ("vm", vmA)));
        Assert.Equal(1, m.Sum("vhsakmt_contexts_destroyed_total", ("vm", vmB)));
        Assert.Equal(0, m.Sum("vhsakmt_contexts_crashed_total"));
    }

    [Fact]
    public void Recording_a_ccmd_allocates_nothing()
    {
        var tags = new ContextTags("vm-9", 5, "bench");
        long ccmds = 0, latencies = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == VhsaKmtMetrics.MeterName) l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((i, v, t, s) => { if (i == VhsaKmtMetrics.Ccmds) ccmds += v; });
        listener.SetMeasurementEventCallback<double>((i, v, t, s) => { if (i == VhsaKmtMetrics.CcmdLatency) latencies++; });
        listener.Start();
        var family = nameof(VhsaKmt.Transport.Hsakmt.CcmdFamily.Nop);

        VhsaKmtMetrics.RecordCcmd(tags, family, "nop", CommandResult.Ok, 100); // warm-up (JIT, statics)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) VhsaKmtMetrics.RecordCcmd(tags, family, "nop", CommandResult.Ok, Stopwatch.Frequency / 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(10_001, ccmds);
        Assert.Equal(10_001, latencies);
    }

    [Fact]
    public void Latency_buckets_resolve_5_to_100_microseconds()
    {
        var us = VhsaKmtMetrics.LatencyBuckets.Where(b => b <= 0.0001).Select(b => b * 1e6).ToArray();
        Assert.Equal(5, us.First(), 6);
        Assert.Equal(100, us.Last(), 6);
        Assert.True(us.Length >= 6, $"{us.Length} boundaries in 5..100 µs");
        Assert.Equal(VhsaKmtMetrics.LatencyBuckets.Order(), VhsaKmtMetrics.LatencyBuckets);
    }

    [Theory]
    [InlineData("http://0.0.0.0:9464/")]
    [InlineData("http://+:9464/")]
    [InlineData("https://127.0.0.1:9464/")]
    [InlineData("not a url")]
    public void Listening_on_every_interface_or_a_non_http_url_is_refused(string listen)
    {
        var c = Akka.Configuration.ConfigurationFactory.ParseString($"vhsakmt.metrics {{ enabled = on, listen = \"{listen}\" }}");
        Assert.Throws<Akka.Configuration.ConfigurationException>(() => MetricsSettings.From(c));
    }

    [Fact]
    public void Metrics_are_off_with_one_key()
    {
        var c = Akka.Configuration.ConfigurationFactory.ParseString("vhsakmt.metrics.enabled = off")
            .WithFallback(VhsaKmt.Daemon.EmbeddedDefaults.Config());
        var s = MetricsSettings.From(c);
        Assert.False(s.Enabled);
        Assert.Null(PrometheusEndpoint.Start(s, Serilog.Log.Logger));
        Assert.Equal("http://127.0.0.1:9464/", MetricsSettings.From(VhsaKmt.Daemon.EmbeddedDefaults.Config()).Listen);
    }

    private static string Ctx(RocmProcess p) => p.CtxId.ToString(CultureInfo.InvariantCulture);
}
