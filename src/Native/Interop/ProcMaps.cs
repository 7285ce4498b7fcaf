using System.Globalization;

namespace VhsaKmt.Native.Interop;

/// <summary>One line of /proc/self/maps.</summary>
public readonly record struct ProcMapping(ulong Start, ulong End, string Permissions, string Path, ulong Offset = 0);

/// <summary>Reads /proc/self/maps, used to prove reservations and mappings are gone (leak tests, diagnostics).</summary>
public static class ProcMaps
{
    public static IReadOnlyList<ProcMapping> Read()
    {
        var result = new List<ProcMapping>();
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            var range = parts[0].Split('-');
            result.Add(new ProcMapping(
                ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                parts[1],
                parts.Length > 5 ? parts[5].Trim() : "",
                ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        }
        return result;
    }

    /// <summary>The mapping that contains <paramref name="address"/>, if any.</summary>
    public static ProcMapping? Containing(ulong address) =>
        Read().Where(m => m.Start <= address && address < m.End).Select(m => (ProcMapping?)m).FirstOrDefault();

    /// <summary>Mappings that intersect [start, end).</summary>
    public static IReadOnlyList<ProcMapping> Overlapping(ulong start, ulong end) =>
        Read().Where(m => m.Start < end && m.End > start).ToList();
}
