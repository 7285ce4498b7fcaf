using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.LibHsaKmt.Abi;

/// <summary>
/// Field-by-field conversion of the D523 host structs to the protocol's H25 types. Fields D523 lacks
/// (NumNeuralCores, Capability2, OverrideEngineId, Integrated, NumXcc, KFDGpuID, FamilyID, RecSdmaEngIdMask)
/// are filled with what the older thunk implies: no neural cores, one XCC for a GPU, the family from the engine id.
/// </summary>
public static class D523Conversion
{
    public static HsaNodeProperties ToH25(in D523NodeProperties d, uint nodeId)
    {
        var h = new HsaNodeProperties
        {
            NumCPUCores = d.NumCPUCores,
            NumFComputeCores = d.NumFComputeCores,
            NumMemoryBanks = d.NumMemoryBanks,
            NumCaches = d.NumCaches,
            NumIOLinks = d.NumIOLinks,
            CComputeIdLo = d.CComputeIdLo,
            FComputeIdLo = d.FComputeIdLo,
            MaxWavesPerSIMD = d.MaxWavesPerSIMD,
            LDSSizeInKB = d.LDSSizeInKB,
            GDSSizeInKB = d.GDSSizeInKB,
            WaveFrontSize = d.WaveFrontSize,
            NumShaderBanks = d.NumShaderBanks,
            NumArrays = d.NumArrays,
            NumCUPerArray = d.NumCUPerArray,
            NumSIMDPerCU = d.NumSIMDPerCU,
            MaxSlotsScratchCU = d.MaxSlotsScratchCU,
            VendorId = d.VendorId,
            DeviceId = d.DeviceId,
            LocationId = d.LocationId,
            LocalMemSize = d.LocalMemSize,
            MaxEngineClockMhzFCompute = d.MaxEngineClockMhzFCompute,
            MaxEngineClockMhzCCompute = d.MaxEngineClockMhzCCompute,
            DrmRenderMinor = d.DrmRenderMinor,
            MarketingName = d.MarketingName,
            AMDName = d.AMDName,
            HiveID = d.HiveID,
            NumSdmaEngines = d.NumSdmaEngines,
            NumSdmaXgmiEngines = d.NumSdmaXgmiEngines,
            NumSdmaQueuesPerEngine = d.NumSdmaQueuesPerEngine,
            NumCpQueues = d.NumCpQueues,
            NumGws = d.NumGws,
            Domain = d.Domain,
            UniqueID = d.UniqueID,
            VGPRSizePerCU = d.VGPRSizePerCU,
            SGPRSizePerCU = d.SGPRSizePerCU,
        };
        h.Capability.Value = d.Capability;
        h.EngineId.Value = d.EngineId;
        h.uCodeEngineVersions.Value = d.uCodeEngineVersions;
        h.DebugProperties.Value = d.DebugProperties;
        var isGpu = d.NumFComputeCores > 0;
        h.NumXcc = isGpu ? 1u : 0u;
        // 5.2.3 has no gpu_id in the struct; the node id is unique within the process and non-zero for GPUs.
        h.KFDGpuID = isGpu ? nodeId : 0u;
        h.FamilyID = isGpu ? FamilyFromEngine(d.EngineId) : 0u;
        return h;
    }

    public static HsaIoLinkProperties ToH25(in D523IoLinkProperties d) => new()
    {
        IoLinkType = d.IoLinkType,
        VersionMajor = d.VersionMajor,
        VersionMinor = d.VersionMinor,
        NodeFrom = d.NodeFrom,
        NodeTo = d.NodeTo,
        Weight = d.Weight,
        MinimumLatency = d.MinimumLatency,
        MaximumLatency = d.MaximumLatency,
        MinimumBandwidth = d.MinimumBandwidth,
        MaximumBandwidth = d.MaximumBandwidth,
        RecTransferSize = d.RecTransferSize,
        RecSdmaEngIdMask = 0,
        Flags = d.Flags,
    };

    /// <summary>amdgpu family ids by GFX major (and minor where the family splits): table-driven.</summary>
    private static readonly (uint Major, uint MinMinor, uint Family)[] Families =
    [
        (12, 0, 152), // AMDGPU_FAMILY_GC_12_0_0
        (11, 5, 150), // GC_11_5_0
        (11, 0, 145), // GC_11_0_0 (gfx1103 APUs report 148, not distinguishable here)
        (10, 3, 143), // NV (gfx103x: Navi 2x)
        (10, 0, 143), // NV
        (9, 0, 141),  // AI
        (8, 0, 130),  // VI
        (7, 0, 125),  // CI
    ];

    public static uint FamilyFromEngine(uint engineId)
    {
        var major = engineId >> 10 & 0x3F;
        var minor = engineId >> 16 & 0xFF;
        foreach (var (mj, mn, family) in Families)
            if (major == mj && minor >= mn) return family;
        return 0;
    }
}
