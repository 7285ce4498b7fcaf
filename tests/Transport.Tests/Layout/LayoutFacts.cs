using System.Text.Json;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>One member of a C type in shared/spec/layouts/*.json (see the README there).</summary>
internal sealed record CField(string Path, int Offset, int Size, string Type, int? Bit, int? Bits)
{
    public bool IsTopLevel => !Path.Contains('.', StringComparison.Ordinal);
    public string Name => Path[(Path.LastIndexOf('.') + 1)..];
    public string? Parent => IsTopLevel ? null : Path[..Path.LastIndexOf('.')];
}

internal sealed record CType(string Name, string Kind, int Size, IReadOnlyList<CField> Fields);

internal sealed record CEnum(string Name, int Size, IReadOnlyDictionary<string, long> Values);

/// <summary>Parsed layout facts of one guest revision (gnew-h25.json or ginit-h25.json).</summary>
internal sealed class LayoutFacts
{
    private static readonly Lazy<LayoutFacts> LazyGNew = new(() => Load(RepoLocator.GNewLayoutJson));
    private static readonly Lazy<LayoutFacts> LazyGInit = new(() => Load(RepoLocator.GInitLayoutJson));

    public static LayoutFacts GNew => LazyGNew.Value;
    public static LayoutFacts GInit => LazyGInit.Value;

    public required IReadOnlyDictionary<string, CType> Types { get; init; }
    public required IReadOnlyDictionary<string, CEnum> Enums { get; init; }

    public static LayoutFacts Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var types = new Dictionary<string, CType>(StringComparer.Ordinal);
        var enums = new Dictionary<string, CEnum>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "enums")
            {
                foreach (var e in prop.Value.EnumerateObject())
                {
                    var values = e.Value.GetProperty("values").EnumerateObject()
                        .ToDictionary(v => v.Name, v => v.Value.GetInt64(), StringComparer.Ordinal);
                    enums[e.Name] = new CEnum(e.Name, e.Value.GetProperty("size").GetInt32(), values);
                }
                continue;
            }
            var fields = prop.Value.GetProperty("fields").EnumerateArray().Select(f => new CField(
                f.GetProperty("path").GetString()!,
                f.GetProperty("offset").GetInt32(),
                f.GetProperty("size").GetInt32(),
                f.GetProperty("type").GetString()!,
                f.TryGetProperty("bit", out var bit) ? bit.GetInt32() : null,
                f.TryGetProperty("bits", out var bits) ? bits.GetInt32() : null)).ToList();
            types[prop.Name] = new CType(prop.Name, prop.Value.GetProperty("kind").GetString()!,
                prop.Value.GetProperty("size").GetInt32(), fields);
        }
        return new LayoutFacts { Types = types, Enums = enums };
    }
}
