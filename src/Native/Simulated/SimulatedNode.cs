using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Simulated;

/// <summary>One node of the simulated topology: its properties and arrays exactly as the thunk returns them.</summary>
internal sealed class SimulatedNode
{
    public required uint Id { get; init; }
    public required HsaNodeProperties Properties;
    public required HsaMemoryProperties[] Banks { get; init; }
    public required HsaCacheProperties[] Caches { get; init; }
    public required HsaIoLinkProperties[] IoLinks { get; init; }
    /// <summary>Null for the CPU node.</summary>
    public SimulatedGpuOptions? Gpu { get; init; }
    public AmdgpuGpuInfo GpuInfo;
    /// <summary>0-based index among GPU nodes (VA scratch ranges, doorbell pages); -1 for CPU.</summary>
    public int GpuIndex { get; init; } = -1;
    public bool IsGpu => Gpu is not null;
}
