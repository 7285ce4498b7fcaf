using System.Text;
using VhsaKmt.Native.Drm;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// Builds KFD topology structs from <see cref="SimulatedKfdOptions"/>: node 0 is the CPU (system memory bank),
/// nodes 1..N the GPUs (one public frame-buffer bank, L1/L2/L3 caches, one PCIe link to the CPU). Values follow
/// what amdkfd reports for the modelled card (gfx11: wave32, 16 waves/SIMD, 2 SIMDs/CU, 8 KiB doorbell page).
/// </summary>
internal static class SimulatedTopology
{
    public const uint HeapSystem = 0, HeapFrameBufferPublic = 1;
    public const uint IoLinkPcie = 2;
    public const uint CacheData = 1, CacheHsaCu = 8;
    public const uint SimdIdBase = 0x8000_1000; // amdkfd numbers GPU SIMDs from here

    public static SimulatedNode[] Build(SimulatedKfdOptions o)
    {
        var nodes = new List<SimulatedNode> { Cpu(o) };
        for (var i = 0; i < o.Gpus.Count; i++)
            nodes.Add(Gpu(o, o.Gpus[i], (uint)(i + 1), i));
        nodes[0].Properties.NumIOLinks = (uint)o.Gpus.Count;
        return nodes.ToArray();
    }

    private static SimulatedNode Cpu(SimulatedKfdOptions o)
    {
        var p = new HsaNodeProperties
        {
            NumCPUCores = o.CpuCores,
            NumMemoryBanks = 1,
            CComputeIdLo = 0,
            MaxEngineClockMhzCCompute = 3000,
            VendorId = 0x1022,
        };
        Ascii(ref p.AMDName, "CPU");
        Utf16(ref p.MarketingName, "Simulated host CPU");
        var bank = new HsaMemoryProperties { HeapType = HeapSystem, SizeInBytes = o.SystemMemoryBytes, Width = 64, MemoryClockMax = 3200 };
        var links = o.Gpus.Select((_, i) => Link(0, (uint)(i + 1))).ToArray();
        return new SimulatedNode { Id = 0, Properties = p, Banks = [bank], Caches = [], IoLinks = links };
    }

    private static SimulatedNode Gpu(SimulatedKfdOptions o, SimulatedGpuOptions g, uint id, int gpuIndex)
    {
        var arrays = g.ShaderEngines * g.ShaderArraysPerEngine;
        var p = new HsaNodeProperties
        {
            NumFComputeCores = g.ComputeUnits * g.SimdPerCu,
            NumMemoryBanks = 1,
            NumCaches = 3,
            NumIOLinks = 1,
            FComputeIdLo = SimdIdBase + (uint)gpuIndex * 0x1000,
            MaxWavesPerSIMD = g.MaxWavesPerSimd,
            LDSSizeInKB = g.LdsSizeKb,
            WaveFrontSize = g.WaveFrontSize,
            NumShaderBanks = g.ShaderEngines,
            NumArrays = arrays,
            NumCUPerArray = (g.ComputeUnits + arrays - 1) / arrays,
            NumSIMDPerCU = g.SimdPerCu,
            MaxSlotsScratchCU = 32,
            VendorId = g.VendorId,
            DeviceId = g.DeviceId,
            LocationId = g.LocationId,
            LocalMemSize = g.VramBytes,
            MaxEngineClockMhzFCompute = g.MaxEngineClockMhz,
            MaxEngineClockMhzCCompute = 3000,
            DrmRenderMinor = o.FirstRenderMinor + gpuIndex,
            NumSdmaEngines = g.NumSdmaEngines,
            NumSdmaQueuesPerEngine = (byte)g.NumSdmaQueuesPerEngine,
            NumCpQueues = (byte)g.NumCpQueues,
            NumGws = (byte)g.NumGws,
            UniqueID = 0x5EED_0000_0000_0000UL | id,
            VGPRSizePerCU = 0x60000,
            SGPRSizePerCU = 0x4000,
            NumXcc = g.NumXcc,
            KFDGpuID = 0x1000u + (uint)gpuIndex * 0x1111u,
            FamilyID = g.FamilyId,
        };
        p.EngineId.Value = (g.GfxMajor & 0x3F) << 10 | (g.GfxMinor & 0xFF) << 16 | (g.GfxStepping & 0xFF) << 24;
        // WatchPointsSupported, 4 watch points (2^2), 64-bit doorbells (type 2), debug trap + wave launch, SVM API.
        p.Capability.Value = 1u << 7 | 2u << 8 | 2u << 12 | 1u << 15 | 1u << 16 | 1u << 17 | 1u << 27;
        Ascii(ref p.AMDName, g.AmdName);
        Utf16(ref p.MarketingName, g.MarketingName);

        var bank = new HsaMemoryProperties
        {
            HeapType = HeapFrameBufferPublic, SizeInBytes = g.VramBytes, Width = g.MemoryBusWidth, MemoryClockMax = g.MemoryClockMhz,
        };
        HsaCacheProperties Cache(uint level, uint kb, uint line) => new()
        {
            ProcessorIdLow = p.FComputeIdLo, CacheLevel = level, CacheSize = kb, CacheLineSize = line, CacheLinesPerTag = 1,
            CacheAssociativity = 16, CacheType = CacheData | CacheHsaCu,
        };
        return new SimulatedNode
        {
            Id = id,
            Properties = p,
            Banks = [bank],
            Caches = [Cache(1, g.L1CacheKb, 128), Cache(2, g.L2CacheKb, 128), Cache(3, g.L3CacheKb, 64)],
            IoLinks = [Link(id, 0)],
            Gpu = g,
            GpuIndex = gpuIndex,
            GpuInfo = GpuInfo(g),
        };
    }

    private static HsaIoLinkProperties Link(uint from, uint to) => new()
    {
        IoLinkType = IoLinkPcie, VersionMajor = 4, NodeFrom = from, NodeTo = to, Weight = 20,
        MinimumBandwidth = 312, MaximumBandwidth = 31_500, RecTransferSize = 0,
    };

    private static AmdgpuGpuInfo GpuInfo(SimulatedGpuOptions g)
    {
        var info = new AmdgpuGpuInfo
        {
            asic_id = g.DeviceId,
            chip_rev = g.GfxStepping,
            chip_external_rev = g.GfxStepping + 1,
            family_id = g.FamilyId,
            max_engine_clk = g.MaxEngineClockMhz * 1000UL,
            max_memory_clk = g.MemoryClockMhz * 1000UL,
            num_shader_engines = g.ShaderEngines,
            num_shader_arrays_per_engine = g.ShaderArraysPerEngine,
            num_hw_gfx_contexts = 8,
            rb_pipes = g.ShaderEngines * 4,
            enabled_rb_pipes_mask = (uint)((1UL << (int)(g.ShaderEngines * 4)) - 1),
            gpu_counter_freq = 100_000, // kHz: the 100 MHz GPU timestamp
            cu_active_number = g.ComputeUnits,
            cu_ao_mask = 0xFFFF_FFFF,
            vram_type = 9, // AMDGPU_VRAM_TYPE_GDDR6
            vram_bit_width = g.MemoryBusWidth,
        };
        // cu_bitmap is [4 SE][4 SH] in libdrm; engines beyond 4 do not fit (as with the real driver's legacy field).
        var cusPerArray = g.ComputeUnits / Math.Max(1, g.ShaderEngines * g.ShaderArraysPerEngine);
        for (var se = 0; se < Math.Min(4, (int)g.ShaderEngines); se++)
            for (var sh = 0; sh < Math.Min(4, (int)g.ShaderArraysPerEngine); sh++)
                info.cu_bitmap[se * 4 + sh] = (uint)((1UL << (int)cusPerArray) - 1);
        return info;
    }

    private static void Ascii(ref Bytesx64 dst, string s)
    {
        var bytes = Encoding.ASCII.GetBytes(s);
        Span<byte> span = dst;
        bytes.AsSpan(0, Math.Min(bytes.Length, span.Length - 1)).CopyTo(span);
    }

    private static void Utf16(ref U16x64 dst, string s)
    {
        Span<ushort> span = dst;
        for (var i = 0; i < Math.Min(s.Length, span.Length - 1); i++) span[i] = s[i];
    }
}
