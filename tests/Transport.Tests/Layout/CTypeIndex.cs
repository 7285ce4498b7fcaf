using System.Text.RegularExpressions;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// Which C type each C# wire struct models, read from the struct's XML doc (<c>/// &lt;summary&gt;C &lt;c&gt;struct X&lt;/c&gt;</c>)
/// in the sources under src/, resolved to the runtime types of the Transport and Native assemblies.
/// Structs in files named <c>GInit*.cs</c> model the older G-init guest revision, whose C types have the same
/// names as G-new's, so they are indexed separately.
/// </summary>
internal static partial class CTypeIndex
{
    private static readonly Lazy<(IReadOnlyDictionary<string, Type> GNew, IReadOnlyDictionary<string, Type> GInit)> Maps = new(Build);

    /// <summary>C type name (as written in the doc, e.g. <c>struct virtio_gpu_ctrl_hdr</c> or <c>HsaEvent</c>) to CLR type.</summary>
    public static IReadOnlyDictionary<string, Type> ByCName => Maps.Value.GNew;

    /// <summary>The same for the G-init structs (src/**/GInit*.cs).</summary>
    public static IReadOnlyDictionary<string, Type> GInitByCName => Maps.Value.GInit;

    public static string? CNameOf(Type t) => ByCName.FirstOrDefault(kv => kv.Value == t).Key;

    [GeneratedRegex(@"^namespace\s+(?<ns>[\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceRx();

    // The doc line, any attribute lines, then the struct declaration.
    [GeneratedRegex(@"///\s*<summary>C <c>(?<c>[^<]+)</c>[^\n]*\n(?:[ \t]*(?:///|\[)[^\n]*\n)*[ \t]*public\s+(?:readonly\s+)?(?:partial\s+)?struct\s+(?<t>\w+)")]
    private static partial Regex DocStructRx();

    [GeneratedRegex(@"^(?:(?:struct|union)\s+)?\w+$")]
    private static partial Regex PlainCTypeRx();

    private static (IReadOnlyDictionary<string, Type>, IReadOnlyDictionary<string, Type>) Build()
    {
        var assemblies = new[] { typeof(VirtioGpuCtrlHdr).Assembly, typeof(HsaEvent).Assembly };
        var gnew = new Dictionary<string, Type>(StringComparer.Ordinal);
        var ginit = new Dictionary<string, Type>(StringComparer.Ordinal);
        var dirs = new[] { "Transport", "Native" }.Select(d => Path.Combine(RepoLocator.SourceDir, d));
        foreach (var file in dirs.SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories)))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                continue;
            var text = File.ReadAllText(file);
            var map = Path.GetFileName(file).StartsWith("GInit", StringComparison.Ordinal) ? ginit : gnew;
            var ns = NamespaceRx().Match(text);
            if (!ns.Success)
                continue;
            foreach (Match m in DocStructRx().Matches(text))
            {
                var cName = m.Groups["c"].Value.Trim();
                if (!PlainCTypeRx().IsMatch(cName))
                    continue; // e.g. "__u8 edid[1024]" on an inline array
                var fullName = ns.Groups["ns"].Value + "." + m.Groups["t"].Value;
                var type = assemblies.Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null)
                    ?? throw new InvalidOperationException($"{file}: {fullName} (C {cName}) is not in the built assemblies");
                if (map.TryGetValue(cName, out var other) && other != type)
                    throw new InvalidOperationException($"C type {cName} is claimed by both {other.FullName} and {type.FullName}");
                map[cName] = type;
            }
        }
        return (gnew, ginit);
    }
}
