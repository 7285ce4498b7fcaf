using System.Globalization;
using System.Text;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// Builds a C program that includes real headers and prints sizeof/offsetof/constant values, one
/// <c>kind key value</c> line each; <see cref="Run"/> compiles it with gcc and returns the measured values.
/// </summary>
internal sealed class CProbe
{
    private readonly string _name;
    private readonly List<string> _includes;
    private readonly List<string> _cflags;
    private readonly StringBuilder _body = new();

    public CProbe(string name, IEnumerable<string> includes, IEnumerable<string>? cflags = null)
    {
        _name = name;
        _includes = includes.ToList();
        _cflags = cflags?.ToList() ?? [];
    }

    public static string SizeKey(string cType) => "size " + cType;
    public static string OffsetKey(string cType, string field) => $"off {cType}.{field}";
    public static string FieldSizeKey(string cType, string field) => $"fsize {cType}.{field}";
    public static string ConstKey(string name) => "const " + name;
    public static string BitKey(string cType, string path) => $"bit {cType}.{path}";

    public CProbe Size(string cType)
    {
        _body.AppendLine($"  printf(\"{SizeKey(cType)} %zu\\n\", sizeof({cType}));");
        return this;
    }

    /// <summary>offsetof and sizeof of a member (not a bitfield).</summary>
    public CProbe Field(string cType, string field)
    {
        _body.AppendLine($"  printf(\"{OffsetKey(cType, field)} %zu\\n\", offsetof({cType}, {field}));");
        _body.AppendLine($"  printf(\"{FieldSizeKey(cType, field)} %zu\\n\", sizeof((({cType} *)0)->{field}));");
        return this;
    }

    /// <summary>offsetof only (for flexible array members, whose sizeof is not defined).</summary>
    public CProbe Offset(string cType, string field)
    {
        _body.AppendLine($"  printf(\"{OffsetKey(cType, field)} %zu\\n\", offsetof({cType}, {field}));");
        return this;
    }

    public CProbe Const(string name, string? cExpr = null)
    {
        _body.AppendLine($"  printf(\"{ConstKey(name)} %lld\\n\", (long long)({cExpr ?? name}));");
        return this;
    }

    /// <summary>
    /// Lowest bit a bitfield occupies, measured by the union trick: zero an object, store 1 into the bitfield,
    /// find the set bit in the object's bytes.
    /// </summary>
    public CProbe Bit(string cType, string bitfieldPath)
    {
        _body.AppendLine("  {");
        _body.AppendLine($"    {cType} v; memset(&v, 0, sizeof v); v.{bitfieldPath} = 1;");
        _body.AppendLine("    const unsigned char *b = (const unsigned char *)&v; int bit = -1;");
        _body.AppendLine("    for (size_t i = 0; i < sizeof v * 8; i++) if (b[i / 8] & (1u << (i % 8))) { bit = (int)i; break; }");
        _body.AppendLine($"    printf(\"{BitKey(cType, bitfieldPath)} %d\\n\", bit);");
        _body.AppendLine("  }");
        return this;
    }

    public CProbeResult Run()
    {
        var src = new StringBuilder();
        src.AppendLine("#include <stdio.h>");
        src.AppendLine("#include <stddef.h>");
        src.AppendLine("#include <stdint.h>");
        src.AppendLine("#include <stdbool.h>");
        src.AppendLine("#include <string.h>");
        foreach (var inc in _includes)
            src.AppendLine($"#include <{inc}>");
        src.AppendLine("int main(void)\n{");
        src.Append(_body);
        src.AppendLine("  return 0;\n}");
        var output = CCompiler.CompileAndRun(_name, src.ToString(), _cflags);
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var cut = line.LastIndexOf(' ');
            values[line[..cut]] = long.Parse(line[(cut + 1)..], CultureInfo.InvariantCulture);
        }
        return new CProbeResult(_name, values);
    }
}

/// <summary>Values measured by a <see cref="CProbe"/>.</summary>
internal sealed record CProbeResult(string Name, IReadOnlyDictionary<string, long> Values)
{
    public long Get(string key) =>
        Values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"probe {Name} did not measure '{key}'");

    public long Size(string cType) => Get(CProbe.SizeKey(cType));
    public long Offset(string cType, string field) => Get(CProbe.OffsetKey(cType, field));
    public long FieldSize(string cType, string field) => Get(CProbe.FieldSizeKey(cType, field));
    public long Const(string name) => Get(CProbe.ConstKey(name));
    public long Bit(string cType, string path) => Get(CProbe.BitKey(cType, path));
}
