using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.LibHsaKmt;
using VhsaKmt.Native.LibHsaKmt.Abi;

namespace VhsaKmt.Native.Tests.LibHsaKmt;

/// <summary>Needs libhsakmt1 installed (CI installs it); runs without /dev/kfd.</summary>
public class LibHsaKmtBindingTests
{
    [Fact]
    public void Library_loads_and_every_required_entry_point_resolves()
    {
        var probe = LibHsaKmtLibrary.Probe();
        Assert.True(probe.Loaded, probe.LoadError);
        Assert.Empty(probe.MissingRequired);
        Assert.All(probe.AvailableOptional, e => Assert.Contains(e, HsaKmtExports.Optional));
    }

    [Fact]
    public void Debian_5_2_3_is_detected_as_D523_and_lacks_the_newer_entry_points()
    {
        var probe = LibHsaKmtLibrary.Probe();
        Assert.True(probe.Loaded);
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/libhsakmt.so.1.0.6")) return; // a different libhsakmt: profile rules differ
        Assert.Equal(HsaAbiProfile.D523, probe.Profile);
        Assert.DoesNotContain("hsaKmtCreateQueueExt", probe.AvailableOptional);
        Assert.DoesNotContain("hsaKmtGetRuntimeCapabilities", probe.AvailableOptional);
        Assert.Contains("hsaKmtSPMAcquire", probe.AvailableOptional);
        Assert.Equal(HsaAbiProfile.H25, LibHsaKmtLibrary.Probe("h25").Profile);
        Assert.Throws<ArgumentException>(() => LibHsaKmtLibrary.Probe("h99"));
    }

    [Fact]
    public void Open_without_dev_kfd_is_a_clean_status_not_an_exception()
    {
        var probe = LibHsaKmtLibrary.Probe(device: "/nonexistent/kfd");
        Assert.False(probe.Usable);
        Assert.Contains("/dev/kfd not usable", probe.Reason);
        if (File.Exists(LibHsaKmtLibrary.KfdDevice)) return; // a real KFD would open
        var status = LibHsaKmtKfd.TryOpen(probe, null, out var kfd);
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, status);
        Assert.Null(kfd);
    }

    [Fact]
    public void D523_family_is_derived_from_the_engine_id()
    {
        Assert.Equal(145u, D523Conversion.FamilyFromEngine(11u << 10));
        Assert.Equal(143u, D523Conversion.FamilyFromEngine(10u << 10 | 3u << 16));
        Assert.Equal(141u, D523Conversion.FamilyFromEngine(9u << 10 | 10u << 16));
        Assert.Equal(0u, D523Conversion.FamilyFromEngine(3u << 10));
    }

    [Fact]
    public void D523_node_properties_convert_field_by_field()
    {
        var d = new D523NodeProperties
        {
            NumFComputeCores = 192, NumMemoryBanks = 1, NumCaches = 3, NumIOLinks = 1, WaveFrontSize = 32, DeviceId = 0x7448,
            EngineId = 11u << 10, LocalMemSize = 48UL << 30, DrmRenderMinor = 129, Capability = 0x1234, VGPRSizePerCU = 7, Domain = 2,
        };
        d.MarketingName[0] = 'W';
        d.AMDName[0] = (byte)'g';
        var h = D523Conversion.ToH25(d, 1);
        Assert.Equal((192u, 1u, 3u, 1u, 32u), (h.NumFComputeCores, h.NumMemoryBanks, h.NumCaches, h.NumIOLinks, h.WaveFrontSize));
        Assert.Equal(((ushort)0x7448, 48UL << 30, 129, 0x1234u, 7u, 2u), (h.DeviceId, h.LocalMemSize, h.DrmRenderMinor, h.Capability.Value, h.VGPRSizePerCU, h.Domain));
        Assert.Equal((1u, 1u, 145u), (h.NumXcc, h.KFDGpuID, h.FamilyID));
        Assert.Equal('W', h.MarketingName[0]);
        Assert.Equal((byte)'g', h.AMDName[0]);
        var cpu = D523Conversion.ToH25(new D523NodeProperties { NumCPUCores = 8 }, 0);
        Assert.Equal((0u, 0u, 0u), (cpu.NumXcc, cpu.KFDGpuID, cpu.FamilyID));
        var link = D523Conversion.ToH25(new D523IoLinkProperties { NodeFrom = 1, NodeTo = 0, Flags = 5, RecTransferSize = 9 });
        Assert.Equal((1u, 0u, 5u, 9u, 0u), (link.NodeFrom, link.NodeTo, link.Flags, link.RecTransferSize, link.RecSdmaEngIdMask));
    }
}
