using System.Diagnostics;
using System.Runtime.InteropServices;
using VhsaKmt.Native.LibHsaKmt.Abi;

namespace VhsaKmt.Native.Tests.LibHsaKmt;

/// <summary>The D523 host structs against the installed Debian hsakmttypes.h, compiled with gcc (libhsakmt-dev).</summary>
public class D523LayoutTests
{
    private static readonly string[] NodeFields =
    [
        "NumCPUCores", "NumFComputeCores", "NumMemoryBanks", "NumCaches", "NumIOLinks", "CComputeIdLo", "FComputeIdLo", "Capability",
        "MaxWavesPerSIMD", "LDSSizeInKB", "GDSSizeInKB", "WaveFrontSize", "NumShaderBanks", "NumArrays", "NumCUPerArray", "NumSIMDPerCU",
        "MaxSlotsScratchCU", "EngineId", "VendorId", "DeviceId", "LocationId", "LocalMemSize", "MaxEngineClockMhzFCompute",
        "MaxEngineClockMhzCCompute", "DrmRenderMinor", "MarketingName", "AMDName", "uCodeEngineVersions", "DebugProperties", "HiveID",
        "NumSdmaEngines", "NumSdmaXgmiEngines", "NumSdmaQueuesPerEngine", "NumCpQueues", "NumGws", "Domain", "UniqueID",
        "VGPRSizePerCU", "SGPRSizePerCU",
    ];

    private static readonly string[] LinkFields =
    [
        "IoLinkType", "VersionMajor", "VersionMinor", "NodeFrom", "NodeTo", "Weight", "MinimumLatency", "MaximumLatency",
        "MinimumBandwidth", "MaximumBandwidth", "RecTransferSize", "Flags",
    ];

    [Fact]
    public void D523_structs_match_the_installed_header()
    {
        Assert.True(File.Exists("/usr/include/hsakmttypes.h"), "libhsakmt-dev (hsakmttypes.h) must be installed");
        var c = new List<string> { "#include <stdio.h>", "#include <stddef.h>", "#include <stdbool.h>", "#include <hsakmt.h>", "int main(void){" };
        c.Add("printf(\"HsaNodeProperties %zu\\n\", sizeof(HsaNodeProperties));");
        c.Add("printf(\"HsaIoLinkProperties %zu\\n\", sizeof(HsaIoLinkProperties));");
        c.AddRange(NodeFields.Select(f => $"printf(\"N.{f} %zu\\n\", offsetof(HsaNodeProperties, {f}));"));
        c.AddRange(LinkFields.Select(f => $"printf(\"L.{f} %zu\\n\", offsetof(HsaIoLinkProperties, {f}));"));
        c.Add("return 0;}");
        var facts = CompileAndRun(string.Join("\n", c));

        Assert.Equal(Marshal.SizeOf<D523NodeProperties>(), facts["HsaNodeProperties"]);
        Assert.Equal(Marshal.SizeOf<D523IoLinkProperties>(), facts["HsaIoLinkProperties"]);
        foreach (var f in NodeFields)
            Assert.True(facts[$"N.{f}"] == (int)Marshal.OffsetOf<D523NodeProperties>(f), $"HsaNodeProperties.{f}: C {facts[$"N.{f}"]}, C# {Marshal.OffsetOf<D523NodeProperties>(f)}");
        foreach (var f in LinkFields)
            Assert.True(facts[$"L.{f}"] == (int)Marshal.OffsetOf<D523IoLinkProperties>(f), $"HsaIoLinkProperties.{f}");
    }

    private static Dictionary<string, int> CompileAndRun(string source)
    {
        var dir = Directory.CreateTempSubdirectory("d523-");
        try
        {
            var src = Path.Combine(dir.FullName, "probe.c");
            var exe = Path.Combine(dir.FullName, "probe");
            File.WriteAllText(src, source);
            Run("gcc", $"-o {exe} {src}");
            return Run(exe, "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1]));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), $"{file} timed out");
        Assert.True(p.ExitCode == 0, $"{file} {args}: {stderr.Result}");
        return stdout.Result;
    }
}
