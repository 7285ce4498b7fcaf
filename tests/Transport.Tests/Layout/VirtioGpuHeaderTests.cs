using System.Reflection;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>VirtioGpuWire.cs and VirtioGpuIds.cs against linux/virtio_gpu.h, compiled with gcc at test time.</summary>
public sealed class VirtioGpuHeaderTests
{
    private const Needs Requires = Needs.Gcc | Needs.LinuxHeaders;
    private const string Truth = "linux/virtio_gpu.h";

    // Values of VirtioGpuConst that upstream linux/virtio_gpu.h does not define (AMD guest-kernel patches, the
    // G-new uapi, the hsakmt capset); they are pinned against PROTOCOL.md §2 in Non_upstream_constants_match_protocol.
    private static readonly HashSet<string> NotUpstream =
    [
        nameof(VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_USERPTR),
        nameof(VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USERPTR_RDONLY),
        nameof(VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_SVM),
        nameof(VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT),
        nameof(VirtioGpuConst.VIRTGPU_HSAKMT_CONTEXT_AMDGPU),
    ];

    private static readonly Lazy<CProbeResult> Probe = new(() =>
    {
        var p = new CProbe("virtio_gpu_layout", ["linux/virtio_gpu.h"]);
        foreach (var (cName, clr) in Structs())
            HeaderLayout.Add(p, cName, HeaderLayout.FieldNames(clr));
        p.Offset("struct virtio_gpu_resp_capset", "capset_data");
        foreach (var name in Enum.GetNames<VirtioGpuCtrlType>())
            p.Const(name);
        foreach (var f in UpstreamConstants())
            p.Const(f.Name);
        return p.Run();
    });

    private static IEnumerable<(string CName, Type Clr)> Structs() =>
        CTypeIndex.ByCName.Where(kv => kv.Value.Namespace == typeof(VirtioGpuCtrlHdr).Namespace)
            .Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key, StringComparer.Ordinal);

    private static IEnumerable<FieldInfo> UpstreamConstants() =>
        typeof(VirtioGpuConst).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && !NotUpstream.Contains(f.Name));

    public static TheoryData<string> StructNames() => new(Structs().Select(s => s.CName));

    [NeedsTheory(Requires)]
    [MemberData(nameof(StructNames))]
    public void Struct_matches_linux_header(string cName)
    {
        Prerequisites.Require(Requires);
        var clr = CTypeIndex.ByCName[cName];
        HeaderLayout.Compare(Probe.Value, cName, clr, Truth, HeaderLayout.FieldNames(clr)).AssertNoErrors();
    }

    [Fact]
    public void Every_virtio_gpu_wire_struct_names_its_c_type()
    {
        var modelled = Structs().Select(s => s.Clr).ToHashSet();
        var unnamed = typeof(VirtioGpuCtrlHdr).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(VirtioGpuCtrlHdr).Namespace && t is { IsValueType: true, IsEnum: false, IsExplicitLayout: true })
            .Where(t => !ClrLayout.IsInlineArray(t) && !modelled.Contains(t))
            .Select(t => t.Name).ToList();
        Assert.True(unnamed.Count == 0, "explicit-layout structs without a '/// <summary>C <c>struct …</c>' doc: " + string.Join(", ", unnamed));
        Assert.True(modelled.Count >= 33, $"only {modelled.Count} virtio-gpu structs found");
    }

    [NeedsFact(Requires)]
    public void Resp_capset_data_offset_matches_linux_header()
    {
        Prerequisites.Require(Requires);
        Assert.Equal(VirtioGpuRespCapset.CapsetDataOffset, Probe.Value.Offset("struct virtio_gpu_resp_capset", "capset_data"));
    }

    [NeedsFact(Requires)]
    public void Ctrl_type_values_match_linux_header()
    {
        Prerequisites.Require(Requires);
        var errors = Enum.GetValues<VirtioGpuCtrlType>()
            .Where(v => Probe.Value.Const(v.ToString()) != (long)v)
            .Select(v => $"{v}: C# 0x{(uint)v:x4}, C 0x{Probe.Value.Const(v.ToString()):x4}").ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [NeedsFact(Requires)]
    public void Constants_match_linux_header()
    {
        Prerequisites.Require(Requires);
        var errors = UpstreamConstants()
            .Select(f => (f.Name, Clr: Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)))
            .Where(c => Probe.Value.Const(c.Name) != c.Clr)
            .Select(c => $"{c.Name}: C# {c.Clr}, C {Probe.Value.Const(c.Name)}").ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public void Non_upstream_constants_match_protocol()
    {
        // PROTOCOL.md §2.1/§2.4: blob flag bits 0x8/0x10/0x20, capset 8, capset payload context_type 1.
        Assert.Equal(0x8u, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_USERPTR);
        Assert.Equal(0x10u, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USERPTR_RDONLY);
        Assert.Equal(0x20u, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_SVM);
        Assert.Equal(8u, VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT);
        Assert.Equal(1u, VirtioGpuConst.VIRTGPU_HSAKMT_CONTEXT_AMDGPU);
        Assert.Equal(5, NotUpstream.Count);
    }
}
