namespace VhsaKmt.Native.Simulated;

/// <summary>One simulated GPU (HOCON <c>vhsakmt.kfd.simulated.gpus[]</c>); defaults model a Radeon Pro W7900 (gfx1100, Navi 31).</summary>
public sealed record SimulatedGpuOptions
{
    public string MarketingName { get; init; } = "AMD Radeon Pro W7900";
    public string AmdName { get; init; } = "gfx1100";
    public ushort VendorId { get; init; } = 0x1002;
    public ushort DeviceId { get; init; } = 0x7448;
    public uint GfxMajor { get; init; } = 11;
    public uint GfxMinor { get; init; } = 0;
    public uint GfxStepping { get; init; } = 0;
    /// <summary>amdgpu family id; AMDGPU_FAMILY_GC_11_0_0 = 145.</summary>
    public uint FamilyId { get; init; } = 145;
    public uint ComputeUnits { get; init; } = 96;
    public uint SimdPerCu { get; init; } = 2;
    public uint ShaderEngines { get; init; } = 6;
    public uint ShaderArraysPerEngine { get; init; } = 2;
    public uint MaxWavesPerSimd { get; init; } = 16;
    public uint WaveFrontSize { get; init; } = 32;
    public uint LdsSizeKb { get; init; } = 64;
    public uint MaxEngineClockMhz { get; init; } = 2495;
    public uint MemoryClockMhz { get; init; } = 2250;
    public uint MemoryBusWidth { get; init; } = 384;
    public ulong VramBytes { get; init; } = 48UL << 30;
    public uint L1CacheKb { get; init; } = 32;
    public uint L2CacheKb { get; init; } = 6 * 1024;
    public uint L3CacheKb { get; init; } = 96 * 1024;
    public uint NumSdmaEngines { get; init; } = 2;
    public uint NumSdmaQueuesPerEngine { get; init; } = 6;
    public uint NumCpQueues { get; init; } = 8;
    /// <summary>gfx11 under MES has no GWS.</summary>
    public uint NumGws { get; init; } = 0;
    public uint NumXcc { get; init; } = 1;
    /// <summary>PCI bus/device/function as KFD's location_id.</summary>
    public uint LocationId { get; init; } = 0x0300;
    public bool XnackSupported { get; init; } = false;
    public uint DoorbellPageBytes { get; init; } = 8192;
}

/// <summary>The simulated KFD (HOCON <c>vhsakmt.kfd.simulated</c>).</summary>
public sealed record SimulatedKfdOptions
{
    public uint CpuCores { get; init; } = 16;
    public ulong SystemMemoryBytes { get; init; } = 64UL << 30;
    public IReadOnlyList<SimulatedGpuOptions> Gpus { get; init; } = [new SimulatedGpuOptions()];
    /// <summary>KFD_MAX_NUM_OF_QUEUES_PER_PROCESS.</summary>
    public int MaxQueues { get; init; } = 1024;
    /// <summary>KFD_SIGNAL_EVENT_LIMIT.</summary>
    public int MaxEvents { get; init; } = 4096;
    public uint KfdMajorVersion { get; init; } = 1;
    public uint KfdMinorVersion { get; init; } = 14;
    /// <summary>Value returned by hsaKmtGetRuntimeCapabilities.</summary>
    public uint RuntimeCapabilities { get; init; } = 0;
    /// <summary>First DRM render minor (renderD128).</summary>
    public int FirstRenderMinor { get; init; } = 128;
}
