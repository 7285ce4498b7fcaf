using VhsaKmt.Native.LibHsaKmt;
using VhsaKmt.Native.LibHsaKmt.Abi;

namespace VhsaKmt.Native.Tests;

public class KfdOptionsReaderTests
{
    [Fact]
    public void Missing_keys_keep_the_defaults()
    {
        var o = KfdOptionsReader.Read(_ => null);
        Assert.Equal(0x1000_0000_0000UL, o.Va.Base);
        Assert.Equal(32UL << 30, o.Va.SliceSize);
        Assert.Equal(256, o.Va.SliceCount);
        Assert.Single(o.Simulated.Gpus);
        Assert.Equal("auto", o.LibHsaKmtAbi);
    }

    [Fact]
    public void Values_as_written_in_HOCON_conf_are_parsed()
    {
        var keys = new Dictionary<string, string>
        {
            ["va.base"] = "0x1800_0000_0000", ["va.slice-size"] = "16g", ["va.slice-count"] = "64", ["va.margin"] = "2TiB",
            ["va.doorbell-window-size"] = "64m", ["simulated.gpu-count"] = "2", ["simulated.gpu.device-id"] = "0x744C",
            ["simulated.gpu.vram"] = "24g", ["simulated.gpu.xnack-supported"] = "true", ["libhsakmt.abi-profile"] = "d523",
        };
        var o = KfdOptionsReader.Read(k => keys.GetValueOrDefault(k));
        Assert.Equal(0x1800_0000_0000UL, o.Va.Base);
        Assert.Equal(16UL << 30, o.Va.SliceSize);
        Assert.Equal(64, o.Va.SliceCount);
        Assert.Equal(2UL << 40, o.Va.Margin);
        Assert.Equal(64UL << 20, o.Va.DoorbellWindowSize);
        Assert.Equal(2, o.Simulated.Gpus.Count);
        Assert.Equal(2, o.Va.GpuNodeCount);
        Assert.All(o.Simulated.Gpus, g => Assert.Equal(((ushort)0x744C, 24UL << 30, true), (g.DeviceId, g.VramBytes, g.XnackSupported)));
        Assert.Equal("d523", o.LibHsaKmtAbi);
    }

    [Theory]
    [InlineData("va.slice-size", "lots")]
    [InlineData("va.base", "0xZZ")]
    [InlineData("simulated.gpu-count", "0")]
    [InlineData("simulated.gpu.xnack-supported", "maybe")]
    public void Malformed_values_name_the_key(string key, string value)
    {
        var e = Assert.Throws<FormatException>(() => KfdOptionsReader.Read(k => k == key ? value : null));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void The_HOCON_file_carries_every_key_the_reader_knows()
    {
        var hocon = File.ReadAllText(Path.Combine(RepoRoot(), "HOCON.conf"));
        foreach (var key in new[] { "slice-size", "slice-count", "scratch-size-per-node", "doorbell-window-size", "margin", "abi-profile", "gpu-count", "max-queues", "max-events", "compute-units", "xnack-supported" })
            Assert.Contains(key + " =", hocon);
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "VhsaKmt.sln"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("repository root");
    }
}

public class KfdBackendSelectorTests
{
    private static LibHsaKmtProbe Probe(bool usable) => new(true, null, [], new HashSet<string>(), HsaAbiProfile.D523, usable, usable ? null : "No such file or directory");

    [Fact]
    public void Simulated_is_chosen_when_configured()
    {
        var c = KfdBackendSelector.Select("simulated", new KfdOptions(), () => throw new InvalidOperationException("must not probe"));
        Assert.Equal(("simulated", true), (c.Name, c.Usable));
    }

    [Fact]
    public void Auto_falls_back_to_simulated_with_the_reason()
    {
        var c = KfdBackendSelector.Select("auto", new KfdOptions(), () => Probe(false));
        Assert.Equal("simulated", c.Name);
        Assert.Contains("/dev/kfd", c.Reason);
        using var va = TestVa.Create();
        using var kfd = c.Factory!(va, null, null);
        Assert.Equal("simulated", kfd.Name);
    }

    [Fact]
    public void Explicit_hsakmt_that_cannot_run_is_reported_not_replaced()
    {
        var c = KfdBackendSelector.Select("HsaKmt", new KfdOptions(), () => Probe(false));
        Assert.Equal("libhsakmt", c.Name);
        Assert.False(c.Usable);
        Assert.Contains("/dev/kfd", c.Reason);
    }

    [Fact]
    public void Auto_picks_libhsakmt_when_usable()
    {
        var c = KfdBackendSelector.Select("auto", new KfdOptions(), () => Probe(true));
        Assert.Equal(("libhsakmt", true), (c.Name, c.Usable));
        Assert.Throws<ArgumentException>(() => KfdBackendSelector.Select("cuda", new KfdOptions()));
    }
}
