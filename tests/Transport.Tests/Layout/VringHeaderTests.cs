using System.Reflection;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>VringWire.cs against linux/virtio_ring.h, compiled with gcc at test time.</summary>
public sealed class VringHeaderTests
{
    private const Needs Requires = Needs.Gcc | Needs.LinuxHeaders;
    private const string Truth = "linux/virtio_ring.h";

    private static readonly (string CName, Type Clr)[] Structs =
    [
        ("struct vring_desc", typeof(VringDesc)),
        ("struct vring_avail", typeof(VringAvail)),
        ("struct vring_used_elem", typeof(VringUsedElem)),
        ("struct vring_used", typeof(VringUsed)),
    ];

    private static readonly Lazy<CProbeResult> Probe = new(() =>
    {
        var p = new CProbe("vring_layout", ["linux/virtio_ring.h"]);
        foreach (var (cName, clr) in Structs)
            HeaderLayout.Add(p, cName, HeaderLayout.FieldNames(clr));
        p.Offset("struct vring_avail", "ring").Offset("struct vring_used", "ring");
        foreach (var f in Constants())
            p.Const(f.Name);
        return p.Run();
    });

    private static IEnumerable<FieldInfo> Constants() =>
        typeof(VringConst).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral);

    public static TheoryData<string> StructNames() => new(Structs.Select(s => s.CName));

    [NeedsTheory(Requires)]
    [MemberData(nameof(StructNames))]
    public void Struct_matches_linux_header(string cName)
    {
        Prerequisites.Require(Requires);
        var clr = Structs.Single(s => s.CName == cName).Clr;
        Assert.Equal(cName, CTypeIndex.CNameOf(clr)); // the doc comment names the same C type
        HeaderLayout.Compare(Probe.Value, cName, clr, Truth, HeaderLayout.FieldNames(clr)).AssertNoErrors();
    }

    [NeedsFact(Requires)]
    public void Ring_offsets_match_linux_header()
    {
        Prerequisites.Require(Requires);
        Assert.Equal(VringAvail.RingOffset, Probe.Value.Offset("struct vring_avail", "ring"));
        Assert.Equal(VringUsed.RingOffset, Probe.Value.Offset("struct vring_used", "ring"));
    }

    [NeedsFact(Requires)]
    public void Constants_match_linux_header()
    {
        Prerequisites.Require(Requires);
        var errors = Constants()
            .Select(f => (f.Name, Clr: Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)))
            .Where(c => Probe.Value.Const(c.Name) != c.Clr)
            .Select(c => $"{c.Name}: C# {c.Clr}, C {Probe.Value.Const(c.Name)}").ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
