using System.Globalization;
using System.Text.RegularExpressions;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>One row of a PROTOCOL.md layout table (<c>| off | size | field | meaning |</c>); size null = "var".</summary>
internal sealed record ProtocolField(string Name, int Offset, int? Size);

internal sealed record ProtocolTable(string CName, int Line, IReadOnlyList<ProtocolField> Fields, int Size);

/// <summary>A row of the HsaNodeProperties per-profile table (§4.8); a null offset is "—" (absent in that profile).</summary>
internal sealed record ProfileRow(string Field, int Size, IReadOnlyDictionary<string, int?> Offsets);

/// <summary>Reads the layout tables of shared/spec/PROTOCOL.md.</summary>
internal static partial class ProtocolTables
{
    private static readonly Lazy<string[]> Lines = new(() => File.ReadAllLines(RepoLocator.ProtocolMd));
    private static readonly Lazy<IReadOnlyDictionary<string, ProtocolTable>> LazyTables = new(ParseTables);

    /// <summary>Tables introduced by a line <c>`type`:</c> (or <c>Capset payload `type` (…):</c>), by C type name.</summary>
    public static IReadOnlyDictionary<string, ProtocolTable> Tables => LazyTables.Value;

    [GeneratedRegex(@"^(?:Capset payload )?`(?<name>[^`]+)`(?: \([^)]*\))?:\s*$")]
    private static partial Regex TitleRx();

    [GeneratedRegex(@"^sizeof = \*\*(?<n>\d+)\*\*")]
    private static partial Regex SizeofRx();

    [GeneratedRegex(@"^`(?<f>[^`]+)`$")]
    private static partial Regex CodeRx();

    private static IReadOnlyDictionary<string, ProtocolTable> ParseTables()
    {
        var lines = Lines.Value;
        var tables = new Dictionary<string, ProtocolTable>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var title = TitleRx().Match(lines[i]);
            if (!title.Success)
                continue;
            var j = i + 1;
            while (j < lines.Length && lines[j].Trim().Length == 0)
                j++;
            if (j >= lines.Length || !lines[j].StartsWith("| off | size | field |", StringComparison.Ordinal))
                continue;
            j += 2; // header and alignment rows
            var fields = new List<ProtocolField>();
            for (; j < lines.Length && lines[j].StartsWith('|'); j++)
            {
                var cells = Cells(lines[j]);
                var name = CodeRx().Match(cells[2]);
                if (!name.Success)
                    throw new FormatException($"PROTOCOL.md:{j + 1}: field cell '{cells[2]}' is not `name`");
                fields.Add(new ProtocolField(name.Groups["f"].Value, Int(cells[0], j),
                    cells[1] == "var" ? null : Int(cells[1], j)));
            }
            while (j < lines.Length && lines[j].Trim().Length == 0)
                j++;
            var size = j < lines.Length ? SizeofRx().Match(lines[j]) : Match.Empty;
            if (!size.Success)
                throw new FormatException($"PROTOCOL.md:{j + 1}: table of {title.Groups["name"].Value} has no 'sizeof = **N**' line");
            var cName = title.Groups["name"].Value;
            tables[cName] = new ProtocolTable(cName, i + 1, fields, Int(size.Groups["n"].Value, j));
        }
        return tables;
    }

    /// <summary>The <c>| field | size | H25 | HN | H24 | D523 |</c> table of HsaNodeProperties, and its sizeof row.</summary>
    public static (IReadOnlyList<ProfileRow> Rows, IReadOnlyDictionary<string, int> Sizeof) NodePropertiesProfiles()
    {
        var lines = Lines.Value;
        var start = Array.FindIndex(lines, l => l.StartsWith("`HsaNodeProperties` per profile", StringComparison.Ordinal));
        if (start < 0)
            throw new FormatException("PROTOCOL.md: no '`HsaNodeProperties` per profile' table");
        var header = Array.FindIndex(lines, start, l => l.StartsWith("| field | size |", StringComparison.Ordinal));
        var profiles = Cells(lines[header]).Skip(2).ToArray();
        var rows = new List<ProfileRow>();
        IReadOnlyDictionary<string, int>? sizes = null;
        for (var j = header + 2; j < lines.Length && lines[j].StartsWith('|'); j++)
        {
            var cells = Cells(lines[j]);
            if (cells[0] == "**sizeof**")
            {
                sizes = profiles.Select((p, k) => (p, v: Int(cells[2 + k].Trim('*'), j))).ToDictionary(x => x.p, x => x.v);
                continue;
            }
            var offsets = profiles.Select((p, k) => (p, v: cells[2 + k] == "—" ? (int?)null : Int(cells[2 + k], j)))
                .ToDictionary(x => x.p, x => x.v);
            rows.Add(new ProfileRow(CodeRx().Match(cells[0]).Groups["f"].Value, Int(cells[1], j), offsets));
        }
        return (rows, sizes ?? throw new FormatException("PROTOCOL.md: HsaNodeProperties profile table has no sizeof row"));
    }

    private static string[] Cells(string row) =>
        row.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    private static int Int(string s, int line) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"PROTOCOL.md:{line + 1}: '{s}' is not a number");
}
