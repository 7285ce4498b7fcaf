using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Simulated;

namespace VhsaKmt.Native.Tests.Simulated;

public class SimulatedTopologyTests
{
    [Fact]
    public void Default_topology_is_one_cpu_and_one_w7900()
    {
        using var kfd = new SimulatedKfd();
        Assert.Equal(HsaStatus.Success, kfd.AcquireSystemProperties(out var sys));
        Assert.Equal(2u, sys.NumNodes);

        Assert.Equal(HsaStatus.Success, kfd.GetNodeProperties(0, out var cpu));
        Assert.True(cpu.NumCPUCores > 0);
        Assert.Equal(0u, cpu.NumFComputeCores);
        Assert.Equal(1u, cpu.NumIOLinks);

        Assert.Equal(HsaStatus.Success, kfd.GetNodeProperties(1, out var gpu));
        Assert.Equal(192u, gpu.NumFComputeCores);              // 96 CUs x 2 SIMDs
        Assert.Equal(2u, gpu.NumSIMDPerCU);
        Assert.Equal(32u, gpu.WaveFrontSize);
        Assert.Equal(16u, gpu.MaxWavesPerSIMD);
        Assert.Equal(64u, gpu.LDSSizeInKB);
        Assert.Equal((ushort)0x1002, gpu.VendorId);
        Assert.Equal((ushort)0x7448, gpu.DeviceId);
        Assert.Equal(11u, gpu.EngineId.Value >> 10 & 0x3F);
        Assert.Equal(0u, gpu.EngineId.Value >> 16 & 0xFF);
        Assert.Equal(128, gpu.DrmRenderMinor);
        Assert.Equal(1u, gpu.NumXcc);
        Assert.NotEqual(0u, gpu.KFDGpuID);
        Assert.Equal(145u, gpu.FamilyID);
        Assert.Equal(48UL << 30, gpu.LocalMemSize);
        Assert.Equal(2u, gpu.Capability.Value >> 12 & 3);      // 64-bit doorbells
        Assert.Equal("AMD Radeon Pro W7900", Utf16(gpu.MarketingName));
        Assert.Equal("gfx1100", Ascii(gpu.AMDName));
        Assert.Equal(6u * 2 * 8, gpu.NumArrays * gpu.NumCUPerArray);
    }

    [Fact]
    public void Arrays_match_the_counts_in_node_properties()
    {
        using var kfd = new SimulatedKfd();
        kfd.GetNodeProperties(1, out var gpu);
        var banks = new HsaMemoryProperties[gpu.NumMemoryBanks];
        Assert.Equal(HsaStatus.Success, kfd.GetNodeMemoryProperties(1, banks));
        Assert.Equal(1u, banks[0].HeapType);
        Assert.Equal(48UL << 30, banks[0].SizeInBytes);

        var caches = new HsaCacheProperties[gpu.NumCaches];
        Assert.Equal(HsaStatus.Success, kfd.GetNodeCacheProperties(1, gpu.FComputeIdLo, caches));
        Assert.Equal([1u, 2u, 3u], caches.Select(c => c.CacheLevel));
        Assert.Equal(96u * 1024, caches[2].CacheSize);

        var links = new HsaIoLinkProperties[gpu.NumIOLinks];
        Assert.Equal(HsaStatus.Success, kfd.GetNodeIoLinkProperties(1, links));
        Assert.Equal((1u, 0u, 2u), (links[0].NodeFrom, links[0].NodeTo, links[0].IoLinkType));

        kfd.GetNodeProperties(0, out var cpu);
        var sys = new HsaMemoryProperties[cpu.NumMemoryBanks];
        Assert.Equal(HsaStatus.Success, kfd.GetNodeMemoryProperties(0, sys));
        Assert.Equal(0u, sys[0].HeapType);
    }

    [Theory]
    [InlineData(2u, 0, 0, 0)]
    [InlineData(1u, 0, 4, 0)]
    [InlineData(1u, 0, 0, 2)]
    public void Out_of_range_queries_are_refused(uint node, int banks, int caches, int links)
    {
        using var kfd = new SimulatedKfd();
        if (node >= 2) Assert.Equal(HsaStatus.InvalidNodeUnit, kfd.GetNodeProperties(node, out _));
        if (node >= 2) Assert.Equal(HsaStatus.InvalidParameter, kfd.GetNodeMemoryProperties(node, new HsaMemoryProperties[banks]));
        if (caches > 0) Assert.Equal(HsaStatus.InvalidParameter, kfd.GetNodeCacheProperties(node, 0, new HsaCacheProperties[caches]));
        if (links > 0) Assert.Equal(HsaStatus.InvalidParameter, kfd.GetNodeIoLinkProperties(node, new HsaIoLinkProperties[links]));
    }

    [Fact]
    public void Several_gpus_get_distinct_ids_render_minors_and_links()
    {
        using var kfd = new SimulatedKfd(new SimulatedKfdOptions { Gpus = [new(), new() { DeviceId = 0x744C, MarketingName = "AMD Radeon RX 7900 XTX" }] });
        kfd.AcquireSystemProperties(out var sys);
        Assert.Equal(3u, sys.NumNodes);
        kfd.GetNodeProperties(1, out var a);
        kfd.GetNodeProperties(2, out var b);
        Assert.NotEqual(a.KFDGpuID, b.KFDGpuID);
        Assert.Equal(a.DrmRenderMinor + 1, b.DrmRenderMinor);
        Assert.Equal((ushort)0x744C, b.DeviceId);
        kfd.GetNodeProperties(0, out var cpu);
        Assert.Equal(2u, cpu.NumIOLinks);
    }

    [Fact]
    public void Gpu_info_is_consistent_with_the_topology()
    {
        using var kfd = new SimulatedKfd();
        Assert.Equal(HsaStatus.Success, kfd.GetAmdgpuGpuInfo(1, out var info));
        Assert.Equal(145u, info.family_id);
        Assert.Equal(0x7448u, info.asic_id);
        Assert.Equal(96u, info.cu_active_number);
        Assert.Equal(6u, info.num_shader_engines);
        Assert.Equal(2u, info.num_shader_arrays_per_engine);
        Assert.Equal(0xFFu, info.cu_bitmap[0]);
        Assert.Equal(HsaStatus.InvalidParameter, kfd.GetAmdgpuGpuInfo(0, out _));
        Assert.Equal(HsaStatus.InvalidNodeUnit, kfd.GetAmdgpuGpuInfo(7, out _));
    }

    [Fact]
    public void Clock_counters_follow_the_monotonic_clock()
    {
        using var kfd = new SimulatedKfd();
        Assert.Equal(HsaStatus.Success, kfd.GetClockCounters(1, out var a));
        Thread.Yield();
        Assert.Equal(HsaStatus.Success, kfd.GetClockCounters(1, out var b));
        Assert.True(b.SystemClockCounter >= a.SystemClockCounter);
        Assert.True(b.GPUClockCounter >= a.GPUClockCounter);
        Assert.Equal(1_000_000_000UL, a.SystemClockFrequencyHz);
        Assert.InRange(a.GPUClockCounter, a.SystemClockCounter / 10 - 1_000_000, a.SystemClockCounter / 10 + 1_000_000);
        Assert.Equal(HsaStatus.InvalidNodeUnit, kfd.GetClockCounters(9, out _));
    }

    [Fact]
    public void Process_wide_state_xnack_runtime_tile_and_spm()
    {
        using var kfd = new SimulatedKfd();
        Assert.Equal(HsaStatus.Success, kfd.GetXnackMode(out var x));
        Assert.Equal(0, x);
        Assert.Equal(HsaStatus.Error, kfd.SetXnackMode(1)); // gfx1100 has no XNACK
        Assert.Equal(HsaStatus.Success, kfd.SetXnackMode(0));
        Assert.Equal(HsaStatus.Error, kfd.RuntimeDisable());
        Assert.Equal(HsaStatus.Success, kfd.RuntimeEnable(true));
        Assert.Equal(HsaStatus.Success, kfd.RuntimeDisable());

        var cfg = new HsaGpuTileConfig { NumTileConfigs = 32, NumMacroTileConfigs = 16 };
        Assert.Equal(HsaStatus.Success, kfd.GetTileConfig(1, ref cfg, new uint[32], new uint[16]));
        Assert.Equal(0u, cfg.NumTileConfigs);
        Assert.NotEqual(0u, cfg.GbAddrConfig);
        Assert.Equal(HsaStatus.Error, kfd.GetTileConfig(0, ref cfg, [], []));

        Assert.Equal(HsaStatus.Success, kfd.SpmAcquire(1));
        Assert.Equal(HsaStatus.Error, kfd.SpmAcquire(1));
        uint timeout = 10;
        Assert.Equal(HsaStatus.NotSupported, kfd.SpmSetDestBuffer(1, 4096, ref timeout, out _, 0x1000, out _));
        Assert.Equal(HsaStatus.Success, kfd.SpmRelease(1));
        Assert.Equal(HsaStatus.Error, kfd.SpmRelease(1));
    }

    [Fact]
    public void Xnack_can_be_enabled_on_a_gpu_that_supports_it_until_queues_exist()
    {
        using var kfd = new SimulatedKfd(new SimulatedKfdOptions { Gpus = [new() { XnackSupported = true }] });
        Assert.Equal(HsaStatus.Success, kfd.SetXnackMode(1));
        Assert.Equal(HsaStatus.Success, kfd.GetXnackMode(out var x));
        Assert.Equal(1, x);
    }

    private static string Utf16(U16x64 s) => new(((ReadOnlySpan<ushort>)s).ToArray().TakeWhile(c => c != 0).Select(c => (char)c).ToArray());
    private static string Ascii(Bytesx64 s) => new(((ReadOnlySpan<byte>)s).ToArray().TakeWhile(c => c != 0).Select(c => (char)c).ToArray());
}
