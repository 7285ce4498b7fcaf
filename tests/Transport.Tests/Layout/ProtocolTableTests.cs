using VhsaKmt.Native.Hsa;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// C# structs against the layout tables of PROTOCOL.md: the only written source for the topology array elements
/// (HsaMemoryProperties, HsaCacheProperties, HsaIoLinkProperties are not embedded in the protocol header, so not in
/// the JSON facts), and a second check for the virtio-gpu and HSA types the document tabulates.
/// </summary>
public sealed class ProtocolTableTests
{
    public static TheoryData<string> TabulatedTypes()
    {
        var data = new TheoryData<string>();
        if (Prerequisites.Missing(Needs.SharedSpec) is not null)
            return data;
        foreach (var cName in ProtocolTables.Tables.Keys.Where(CTypeIndex.ByCName.ContainsKey).Order(StringComparer.Ordinal))
            data.Add(cName);
        return data;
    }

    [NeedsTheory(Needs.SharedSpec)]
    [MemberData(nameof(TabulatedTypes))]
    public void Struct_matches_protocol_table(string cName)
    {
        Prerequisites.Require(Needs.SharedSpec);
        var table = ProtocolTables.Tables[cName];
        var check = new LayoutCheck(CTypeIndex.ByCName[cName], $"PROTOCOL.md:{table.Line} {cName}");
        check.Size(table.Size);
        foreach (var f in table.Fields)
        {
            if (f.Size is null)
            {
                // variable-length tail: modelled as an offset constant
                var off = ClrLayout.Const(check.Type, "PayloadOffset") ??
                          ClrLayout.Const(check.Type, PascalCase(f.Name) + "Offset");
                if (off is not int o || o != f.Offset)
                    check.Fail($"{f.Name} (var) at {f.Offset}: PayloadOffset/{PascalCase(f.Name)}Offset is {off ?? "missing"}");
                continue;
            }
            check.Field(f.Name, f.Offset, f.Size);
        }
        check.AssertNoErrors();
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Topology_array_elements_are_checked_against_the_document()
    {
        Prerequisites.Require(Needs.SharedSpec);
        // Not in gnew-h25.json, so PROTOCOL.md §4.8 is their only check; make sure its tables are found.
        foreach (var t in new[] { nameof(HsaMemoryProperties), nameof(HsaCacheProperties), nameof(HsaIoLinkProperties) })
        {
            Assert.True(ProtocolTables.Tables.ContainsKey(t), $"PROTOCOL.md has no `{t}` table");
            Assert.False(LayoutFacts.GNew.Types.ContainsKey(t), $"{t} is now in gnew-h25.json: check it there too");
        }
        Assert.True(ProtocolTables.Tables.Keys.Count(CTypeIndex.ByCName.ContainsKey) >= 30, "fewer PROTOCOL.md tables matched C# structs than expected");
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Node_properties_match_the_H25_column_of_the_profile_table()
    {
        Prerequisites.Require(Needs.SharedSpec);
        var (rows, sizes) = ProtocolTables.NodePropertiesProfiles();
        var check = new LayoutCheck(typeof(HsaNodeProperties), "PROTOCOL.md §4.8 HsaNodeProperties, column H25");
        check.Size(sizes["H25"]);
        foreach (var row in rows)
        {
            if (row.Offsets["H25"] is { } off)
                check.Field(row.Field, off, row.Size);
            else if (ClrLayout.Field(typeof(HsaNodeProperties), row.Field) is not null)
                check.Fail($"{row.Field}: absent in H25 but present in C#");
        }
        check.NoExtraFields(rows.Where(r => r.Offsets["H25"] is not null).Select(r => r.Field));
        check.AssertNoErrors();
    }

    private static string PascalCase(string cName) =>
        string.Concat(cName.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}
