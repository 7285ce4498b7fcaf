namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>Probes C structs in real headers for the fields a C# struct models, and compares the two.</summary>
internal static class HeaderLayout
{
    /// <summary>The C member names a C# struct models: its public instance field names.</summary>
    public static IEnumerable<string> FieldNames(Type clr) => ClrLayout.Fields(clr).Select(f => f.Name);

    /// <summary>Adds sizeof of <paramref name="cType"/> and offsetof/sizeof of each field to the probe.</summary>
    public static void Add(CProbe probe, string cType, IEnumerable<string> fields)
    {
        probe.Size(cType);
        foreach (var f in fields)
            probe.Field(cType, f);
    }

    /// <summary>
    /// Compares the C# layout with the probe: the size (unless <paramref name="compareSize"/> is false) and each
    /// field's offset and size.
    /// </summary>
    public static LayoutCheck Compare(CProbeResult probe, string cType, Type clr, string truth,
        IEnumerable<string> fields, bool compareSize = true)
    {
        var check = new LayoutCheck(clr, $"{truth} {cType}");
        if (compareSize)
            check.Size(probe.Size(cType));
        foreach (var f in fields)
            check.Field(f, probe.Offset(cType, f), probe.FieldSize(cType, f));
        return check;
    }
}
