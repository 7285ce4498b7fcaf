using System.Diagnostics;

namespace VhsaKmt.Actors.Metrics;

/// <summary>
/// The tags of one context (vm, ctx, guest process name), built once at CTX_CREATE so recording copies three
/// pre-boxed pairs instead of boxing the ctx id per ccmd.
/// </summary>
public sealed class ContextTags
{
    private readonly KeyValuePair<string, object?>[] _tags;

    public ContextTags(string vm, uint ctx, string process)
    {
        Vm = vm;
        Ctx = ctx;
        Process = process;
        _tags = [new("vm", vm), new("ctx", ctx.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("process", process)];
    }

    public string Vm { get; }
    public uint Ctx { get; }
    public string Process { get; }

    public ReadOnlySpan<KeyValuePair<string, object?>> Span => _tags;

    /// <summary>A stack TagList with the context's tags plus <paramref name="extra"/> (values are interned strings).</summary>
    public TagList With((string Key, string Value) a, (string Key, string Value) b = default, (string Key, string Value) c = default)
    {
        var t = new TagList(_tags);
        t.Add(a.Key, a.Value);
        if (b.Key is not null) t.Add(b.Key, b.Value);
        if (c.Key is not null) t.Add(c.Key, c.Value);
        return t;
    }
}
