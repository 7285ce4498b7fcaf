using System.Reflection;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// Collects every layout mismatch of one C# struct against one source of truth, then fails once with the full
/// list (so a wrong struct shows all its wrong fields in one run).
/// </summary>
internal sealed class LayoutCheck
{
    private readonly List<string> _errors = [];

    public LayoutCheck(Type type, string truth)
    {
        Type = type;
        Truth = truth;
    }

    public Type Type { get; }
    public string Truth { get; }
    public IReadOnlyList<string> Errors => _errors;

    public void Fail(string message) => _errors.Add(message);

    /// <summary>Runtime size and the <c>const int Size</c> (when declared) must both equal <paramref name="expected"/>.</summary>
    public void Size(long expected)
    {
        var actual = ClrLayout.SizeOf(Type);
        if (actual != expected)
            Fail($"sizeof: C# {actual}, expected {expected}");
        if (ClrLayout.Const(Type, "Size") is int declared && declared != expected)
            Fail($"const Size: C# {declared}, expected {expected}");
    }

    /// <summary>A C member must exist as a C# field of the same name, at the same offset (and size, when given).</summary>
    public FieldInfo? Field(string name, long offset, long? size, string? what = null)
    {
        var f = ClrLayout.Field(Type, name);
        var label = what is null ? name : $"{name} ({what})";
        if (f is null)
        {
            Fail($"{label}: no C# field (C: offset {offset}{(size is null ? "" : $", size {size}")})");
            return null;
        }
        var off = ClrLayout.OffsetOf(f);
        if (off != offset)
            Fail($"{label}: C# offset {off}, expected {offset}");
        if (size is not null)
        {
            var fs = ClrLayout.SizeOf(f.FieldType);
            if (fs != size)
                Fail($"{label}: C# size {fs} ({f.FieldType.Name}), expected {size}");
        }
        return f;
    }

    /// <summary>Every C# instance field must be one of <paramref name="known"/> unless <paramref name="allowed"/> says so.</summary>
    public void NoExtraFields(IEnumerable<string> known, Func<FieldInfo, bool>? allowed = null)
    {
        var set = new HashSet<string>(known, StringComparer.Ordinal);
        foreach (var f in ClrLayout.Fields(Type))
            if (!set.Contains(f.Name) && !(allowed?.Invoke(f) ?? false))
                Fail($"{f.Name}: C# field at offset {ClrLayout.OffsetOf(f)} has no C member of that name");
    }

    public void AssertNoErrors()
    {
        if (_errors.Count > 0)
            Assert.Fail($"{Type.FullName} vs {Truth}: {_errors.Count} mismatch(es):\n  - " + string.Join("\n  - ", _errors));
    }
}
