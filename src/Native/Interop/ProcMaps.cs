using System.Globalization;

namespace VhsaKmt.Native.Interop;

/// <summary>One line of /proc/self/maps.</summary>
public readonly record struct ProcMapping(ulong Start, ulong End, string Permissions, string Path);

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
                parts.Length > 5 ? parts[5].Trim() : ""));
        }
        return result;
    }

    /// <summary>Mappings that intersect [start, end).</summary>
    public static IReadOnlyList<ProcMapping> Overlapping(ulong start, ulong end) =>
        Read().Where(m => m.Start < end && m.End > start).ToList();
}
