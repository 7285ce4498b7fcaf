using System.Globalization;
using VhsaKmt.Native.Simulated;

namespace VhsaKmt.Native;

/// <summary>
/// Reads <see cref="KfdOptions"/> from any key/value source (the daemon passes Akka's
/// <c>config.GetString("vhsakmt.kfd." + key, null)</c>), so this assembly needs no HOCON parser. Missing keys keep
/// their defaults; malformed values throw <see cref="FormatException"/> naming the key (a configuration error).
/// Sizes accept HOCON units (k, m, g, t, KiB, MiB, GiB, TiB, …); addresses accept 0x… hex with underscores.
/// </summary>
public static class KfdOptionsReader
{
    /// <param name="get">Value of a key relative to <c>vhsakmt.kfd</c> (e.g. "va.base"), or null when absent.</param>
    public static KfdOptions Read(Func<string, string?> get)
    {
        var d = new KfdOptions();
        var va = d.Va with
        {
            Base = Num(get, "va.base") ?? d.Va.Base,
            SliceSize = Size(get, "va.slice-size") ?? d.Va.SliceSize,
            SliceCount = (int?)Num(get, "va.slice-count") ?? d.Va.SliceCount,
            ScratchSizePerNode = Size(get, "va.scratch-size-per-node") ?? d.Va.ScratchSizePerNode,
            DoorbellWindowSize = Size(get, "va.doorbell-window-size") ?? d.Va.DoorbellWindowSize,
            Margin = Size(get, "va.margin") ?? d.Va.Margin,
        };
        var g = new SimulatedGpuOptions();
        g = g with
        {
            MarketingName = get("simulated.gpu.marketing-name") ?? g.MarketingName,
            AmdName = get("simulated.gpu.amd-name") ?? g.AmdName,
            DeviceId = (ushort?)Num(get, "simulated.gpu.device-id") ?? g.DeviceId,
            GfxMajor = (uint?)Num(get, "simulated.gpu.gfx-major") ?? g.GfxMajor,
            GfxMinor = (uint?)Num(get, "simulated.gpu.gfx-minor") ?? g.GfxMinor,
            GfxStepping = (uint?)Num(get, "simulated.gpu.gfx-stepping") ?? g.GfxStepping,
            FamilyId = (uint?)Num(get, "simulated.gpu.family-id") ?? g.FamilyId,
            ComputeUnits = (uint?)Num(get, "simulated.gpu.compute-units") ?? g.ComputeUnits,
            VramBytes = Size(get, "simulated.gpu.vram") ?? g.VramBytes,
            XnackSupported = Bool(get, "simulated.gpu.xnack-supported") ?? g.XnackSupported,
        };
        var gpuCount = (int?)Num(get, "simulated.gpu-count") ?? 1;
        if (gpuCount < 1 || gpuCount > 16) throw new FormatException($"vhsakmt.kfd.simulated.gpu-count = {gpuCount}: 1..16");
        var sim = d.Simulated with
        {
            CpuCores = (uint?)Num(get, "simulated.cpu-cores") ?? d.Simulated.CpuCores,
            SystemMemoryBytes = Size(get, "simulated.system-memory") ?? d.Simulated.SystemMemoryBytes,
            MaxQueues = (int?)Num(get, "simulated.max-queues") ?? d.Simulated.MaxQueues,
            MaxEvents = (int?)Num(get, "simulated.max-events") ?? d.Simulated.MaxEvents,
            Gpus = Enumerable.Repeat(g, gpuCount).ToArray(),
        };
        return new KfdOptions
        {
            Va = va with { GpuNodeCount = Math.Max(va.GpuNodeCount, gpuCount) },
            Simulated = sim,
            LibHsaKmtAbi = get("libhsakmt.abi-profile") ?? d.LibHsaKmtAbi,
        };
    }

    private static readonly (string Suffix, ulong Factor)[] Units =
    [
        ("kib", 1UL << 10), ("mib", 1UL << 20), ("gib", 1UL << 30), ("tib", 1UL << 40),
        ("kb", 1000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("k", 1UL << 10), ("m", 1UL << 20), ("g", 1UL << 30), ("t", 1UL << 40), ("b", 1),
    ];

    public static ulong? Size(Func<string, string?> get, string key)
    {
        var text = get(key)?.Trim().Replace("_", "").Replace(" ", "").ToLowerInvariant();
        if (string.IsNullOrEmpty(text)) return null;
        foreach (var (suffix, factor) in Units)
            if (text.EndsWith(suffix) && ulong.TryParse(text[..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                return checked(n * factor);
        return ParseNumber(text, key);
    }

    public static ulong? Num(Func<string, string?> get, string key)
    {
        var text = get(key)?.Trim().Replace("_", "");
        return string.IsNullOrEmpty(text) ? null : ParseNumber(text, key);
    }

    private static bool? Bool(Func<string, string?> get, string key) => get(key)?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "true" or "on" or "yes" => true,
        "false" or "off" or "no" => false,
        var other => throw new FormatException($"vhsakmt.kfd.{key} = '{other}': expected true/false"),
    };

    private static ulong ParseNumber(string text, string key)
    {
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw new FormatException($"vhsakmt.kfd.{key} = '{text}': not a number");
    }
}
