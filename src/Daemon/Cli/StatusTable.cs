using System.Globalization;
using System.Text;
using VhsaKmt.Actors.Admin;

namespace VhsaKmt.Daemon.Cli;

/// <summary>The human-readable form of a status report: a daemon line, then one block per VM with its contexts.</summary>
public static class StatusTable
{
    public static string Format(StatusReport s)
    {
        var sb = new StringBuilder();
        var d = s.Daemon;
        sb.AppendLine(CultureInfo.InvariantCulture, $"vhsakmtd pid {d.Pid}, up {Duration(d.UptimeSeconds)}, backend {d.Backend}, listening on {d.Listening}");
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"{s.Totals.Vms} VM(s), {s.Totals.Contexts} context(s), {s.Totals.Objects} object(s), {Bytes(s.Totals.MemoryBytes)}, {s.Totals.Queues} queue(s)");
        foreach (var vm in s.Vms)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{vm.Vm} ({vm.Device}), up {Duration(vm.UptimeSeconds)}, protocol features {vm.AckedProtocolFeatures}, {vm.Contexts.Count} context(s)");
            if (vm.Contexts.Count == 0) continue;
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {"CTX",5}  {"PROCESS",-20} {"OBJECTS",7} {"MEMORY",10} {"VRAM",10} {"QUEUES",6} {"CCMDS",9} {"FAULTS",6}  LAST ERROR");
            foreach (var c in vm.Contexts)
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {c.CtxId,5}  {Clip(c.Process, 20),-20} {c.Objects,7} {Bytes(c.MemoryBytes),10} {Bytes(c.VramBytes),10} {c.Queues,6} {c.Ccmds,9} {c.HandlerFaults,6}  {c.LastError ?? "-"}");
        }
        return sb.ToString();
    }

    private static string Clip(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    public static string Bytes(ulong b) => b switch
    {
        >= 1UL << 30 => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1UL << 30):0.0} GiB"),
        >= 1UL << 20 => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1UL << 20):0.0} MiB"),
        >= 1UL << 10 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b} B"),
    };

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.TotalSeconds:0.0}s";
    }
}
