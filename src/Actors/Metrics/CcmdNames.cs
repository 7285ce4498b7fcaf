using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Metrics;

/// <summary>Metric labels of ccmd families and subtypes, built once so recording a ccmd formats nothing.</summary>
public static class CcmdNames
{
    private static readonly string[] s_families = Names<CcmdFamily>(7);
    private static readonly string[][] s_subtypes = BuildSubtypes();

    public static string Family(uint cmd) => cmd < (uint)s_families.Length ? s_families[cmd] : "unknown";

    public static string Subtype(uint cmd, uint subtype)
    {
        if (cmd >= (uint)s_subtypes.Length) return "unknown";
        var names = s_subtypes[cmd];
        return subtype < (uint)names.Length ? names[subtype] : "unknown";
    }

    private static string[][] BuildSubtypes()
    {
        var t = new string[7][];
        for (int i = 0; i < t.Length; i++) t[i] = [];
        t[(int)CcmdFamily.Nop] = ["nop"];
        t[(int)CcmdFamily.QueryInfo] = Names<QueryType>();
        t[(int)CcmdFamily.Event] = Names<EventType>();
        t[(int)CcmdFamily.Memory] = Names<MemoryType>();
        t[(int)CcmdFamily.Queue] = Names<QueueType>();
        t[(int)CcmdFamily.GlInter] = Names<GlInterType>();
        return t;
    }

    private static string[] Names<T>(int size = 0) where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        int n = Math.Max(size, values.Max(v => Convert.ToInt32(v)) + 1);
        var names = Enumerable.Repeat("unknown", n).ToArray();
        foreach (var v in values) names[Convert.ToInt32(v)] = ToSnake(v.ToString());
        return names;
    }

    private static string ToSnake(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
