using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Actors.Supervisor;

/// <summary>"node N: marketing name" for every GPU node of a KFD (the start-up line).</summary>
public static class GpuNodeNames
{
    public static IReadOnlyList<string> Of(IKfd kfd)
    {
        if (kfd.AcquireSystemProperties(out var sys) != HsaStatus.Success) return [];
        var names = new List<string>();
        for (uint n = 0; n < sys.NumNodes; n++)
        {
            if (kfd.GetNodeProperties(n, out var p) != HsaStatus.Success || p.KFDGpuID == 0) continue;
            ReadOnlySpan<ushort> chars = p.MarketingName;
            int len = chars.IndexOf((ushort)0);
            if (len < 0) len = chars.Length;
            var name = new string(System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, char>(chars[..len]));
            names.Add($"node {n}: {(name.Length > 0 ? name : "GPU")}");
        }
        return names;
    }
}
