namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>Compares one C# struct with one type of a layouts/*.json file.</summary>
internal static class JsonLayout
{
    public static LayoutCheck Check(Type clr, CType c, string source)
    {
        var check = new LayoutCheck(clr, $"{source} {c.Name}");
        check.Size(c.Size);

        var byPath = c.Fields.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var modelled = new List<string>();
        foreach (var f in c.Fields.Where(f => f.IsTopLevel))
        {
            if (f.Bit is not null || IsBitfieldContainer(f, c))
                continue; // bitfields: checked through the bit constants below
            if (f.Type.EndsWith("[]", StringComparison.Ordinal))
            {
                // A flexible array member is modelled as a "PayloadOffset" (or "<Name>Offset") constant.
                var constName = char.ToUpperInvariant(f.Name[0]) + f.Name[1..] + "Offset";
                if (ClrLayout.Const(clr, constName) is null)
                    constName = "PayloadOffset";
                if (ClrLayout.Const(clr, constName) is not int at)
                    check.Fail($"{f.Name} ({f.Type}) at {f.Offset}: no const int PayloadOffset");
                else if (at != f.Offset)
                    check.Fail($"{f.Name} ({f.Type}): {constName} = {at}, expected {f.Offset}");
                continue;
            }
            modelled.Add(f.Name);
            var field = check.Field(f.Name, f.Offset, f.Size, f.Type);
            if (field is null)
                continue;
            // A nested struct must model the same C type, not just one of the same size.
            var nestedC = CTypeIndex.CNameOf(field.FieldType);
            if (nestedC is not null && !f.Type.Contains('[', StringComparison.Ordinal) && TypeKey(nestedC) != TypeKey(f.Type))
                check.Fail($"{f.Name}: C# type {field.FieldType.Name} models C {nestedC}, C member is {f.Type}");
        }

        var ownBits = c.Fields.Where(f => f.Bit is not null && (f.IsTopLevel ||
            (f.Parent is { } p && byPath.TryGetValue(p, out var parent) && parent.IsTopLevel && IsBitfieldContainer(parent, c))))
            .ToList();
        // A C# "Value" at offset 0 spanning the type is the raw view of a pure-bitfield struct (HsaAccessAttributeFailure).
        check.NoExtraFields(modelled, f => f.Name == "Value" && ownBits.Count > 0 && ClrLayout.OffsetOf(f) == 0 &&
                                           ClrLayout.SizeOf(f.FieldType) == c.Size);
        CheckBits(check, clr, ownBits);
        return check;
    }

    /// <summary>A typedef and its struct tag name the same type: <c>struct _X</c>, <c>_X</c> and <c>X</c>.</summary>
    private static string TypeKey(string cType) =>
        cType.Replace("struct ", "", StringComparison.Ordinal).Replace("union ", "", StringComparison.Ordinal).TrimStart('_');

    /// <summary>An anonymous struct whose members are all bitfields (the <c>ui32</c> of the HSA unions).</summary>
    private static bool IsBitfieldContainer(CField f, CType c)
    {
        if (f.Type != "struct <anon>")
            return false;
        var children = c.Fields.Where(x => x.Parent == f.Path).ToList();
        return children.Count > 0 && children.All(x => x.Bit is not null);
    }

    /// <summary>
    /// One-bit fields need a mask constant of the same name (<c>1 &lt;&lt; bit</c>); wider ones a
    /// <c>NameShift</c> constant (and <c>NameBits</c>, when declared, must equal the width). Reserved bits are not modelled.
    /// </summary>
    private static void CheckBits(LayoutCheck check, Type clr, IEnumerable<CField> bits)
    {
        foreach (var b in bits)
        {
            if (b.Name.StartsWith("Reserved", StringComparison.Ordinal))
                continue;
            // Bit positions in the JSON count from the start of the type; the C# constants apply to Value at offset 0.
            var bit = b.Bit!.Value;
            if (b.Bits == 1)
            {
                var mask = ClrLayout.Const(clr, b.Name);
                if (mask is null)
                    check.Fail($"bitfield {b.Path} (bit {bit}): no const {b.Name}");
                else if (Convert.ToUInt64(mask, System.Globalization.CultureInfo.InvariantCulture) != 1UL << bit)
                    check.Fail($"bitfield {b.Path}: const {b.Name} = 0x{mask:x}, expected 1 << {bit}");
            }
            else
            {
                var shift = ClrLayout.Const(clr, b.Name + "Shift");
                if (shift is not int s)
                    check.Fail($"bitfield {b.Path} (bits {bit}..{bit + b.Bits - 1}): no const int {b.Name}Shift");
                else if (s != bit)
                    check.Fail($"bitfield {b.Path}: {b.Name}Shift = {s}, expected {bit}");
                if (ClrLayout.Const(clr, b.Name + "Bits") is int w && w != b.Bits)
                    check.Fail($"bitfield {b.Path}: {b.Name}Bits = {w}, expected {b.Bits}");
            }
        }
    }
}
