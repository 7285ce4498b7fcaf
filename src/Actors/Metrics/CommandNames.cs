using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Metrics;

/// <summary>Metric label of a virtio-gpu command type, cached per value so a reply does not format an enum.</summary>
public static class CommandNames
{
    private static readonly Dictionary<VirtioGpuCtrlType, string> s_names =
        Enum.GetValues<VirtioGpuCtrlType>().Distinct().ToDictionary(v => v, v => v.ToString().Replace("VIRTIO_GPU_CMD_", "", StringComparison.Ordinal).ToLowerInvariant());

    public static string Of(VirtioGpuCtrlType type) => s_names.TryGetValue(type, out var n) ? n : "unknown";
}
