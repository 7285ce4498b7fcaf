using System.Text.RegularExpressions;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>One report line of the guest client or its init: <c>@@vhsakmt TAG VERDICT STEP DETAILS</c>.</summary>
public sealed record GuestLine(string Tag, string Verdict, string Step, string Details)
{
    /// <summary>A <c>key=value</c> item of <see cref="Details"/>, or null.</summary>
    public string? Value(string key)
    {
        var m = Regex.Match(Details, $@"(?:^|\s){Regex.Escape(key)}=(\S+)");
        return m.Success ? m.Groups[1].Value : null;
    }

    public ulong HexValue(string key)
    {
        var v = Value(key) ?? throw new InvalidOperationException($"no {key}= in '{Details}'");
        return Convert.ToUInt64(v.StartsWith("0x", StringComparison.Ordinal) ? v[2..] : v, 16);
    }
}

/// <summary>
/// The guest's serial console, parsed. The marker <c>@@vhsakmt</c> may be preceded by kernel output on
/// the same line, so lines are matched anywhere, not only at their start.
/// </summary>
public sealed class GuestReport
{
    private static readonly Regex LineRx = new(@"@@vhsakmt (\S+) (PASS|FAIL|DONE|HOLD|BOOT|INFO)(?: (\S+))?(?: (.*))?$", RegexOptions.Compiled);

    public string Console { get; }
    public IReadOnlyList<GuestLine> Lines { get; }

    public GuestReport(string console)
    {
        Console = console;
        Lines = console.Split('\n')
            .Select(l => LineRx.Match(l.TrimEnd('\r')))
            .Where(m => m.Success)
            .Select(m => new GuestLine(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value.Trim()))
            .ToList();
    }

    public IEnumerable<GuestLine> Of(string tag) => Lines.Where(l => l.Tag == tag);
    public GuestLine? Find(string tag, string verdict, string step) =>
        Lines.FirstOrDefault(l => l.Tag == tag && l.Verdict == verdict && l.Step == step);
    public bool IsDone(string tag) => Lines.Any(l => l.Tag == tag && l.Verdict == "DONE");
    public IEnumerable<GuestLine> Failures(string tag) => Of(tag).Where(l => l.Verdict == "FAIL");

    /// <summary>The kernel's virtio-gpu lines the init script echoes (feature list, errors).</summary>
    public IEnumerable<string> KernelLines =>
        Console.Split('\n').Where(l => l.Contains("@@dmesg ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("@@dmesg ", StringComparison.Ordinal) + 8)..].TrimEnd('\r'));

    /// <summary>A human summary for assertion messages: every report line plus the kernel lines.</summary>
    public string Summary() =>
        string.Join('\n', Lines.Select(l => $"{l.Tag} {l.Verdict} {l.Step} {l.Details}").Concat(KernelLines.Select(k => "dmesg: " + k)));
}
