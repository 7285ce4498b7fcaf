using VhsaKmt.Native.Drm;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>src/Native/Drm against libdrm's amdgpu.h / amdgpu_drm.h (libdrm-dev), compiled with gcc at test time.</summary>
public sealed class LibdrmHeaderTests
{
    private const Needs Requires = Needs.Gcc | Needs.Libdrm;
    private const string Truth = "libdrm amdgpu.h";

    private static readonly (string CName, Type Clr)[] Structs =
    [
        ("struct amdgpu_gpu_info", typeof(AmdgpuGpuInfo)),
        ("struct amdgpu_bo_info", typeof(AmdgpuBoInfo)),
        ("struct amdgpu_bo_metadata", typeof(AmdgpuBoMetadata)),
        ("struct amdgpu_bo_import_result", typeof(AmdgpuBoImportResult)),
        ("struct drm_amdgpu_info", typeof(DrmAmdgpuInfo)),
    ];

    private static readonly Lazy<CProbeResult> Probe = new(() =>
    {
        var cflags = CCompiler.PkgConfigCflags("libdrm_amdgpu", "-I" + Prerequisites.LibdrmIncludeDir);
        var p = new CProbe("libdrm_layout", ["amdgpu.h", "amdgpu_drm.h"], cflags);
        foreach (var (cName, clr) in Structs)
            HeaderLayout.Add(p, cName, HeaderLayout.FieldNames(clr));
        return p.Run();
    });

    public static TheoryData<string> StructNames() => new(Structs.Select(s => s.CName));

    [NeedsTheory(Requires)]
    [MemberData(nameof(StructNames))]
    public void Struct_matches_libdrm_header(string cName)
    {
        Prerequisites.Require(Requires);
        var clr = Structs.Single(s => s.CName == cName).Clr;
        Assert.Equal(cName, CTypeIndex.CNameOf(clr));
        HeaderLayout.Compare(Probe.Value, cName, clr, Truth, HeaderLayout.FieldNames(clr)).AssertNoErrors();
    }
}
