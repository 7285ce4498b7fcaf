using Serilog;
using VhsaKmt.Native.LibHsaKmt;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native;

/// <summary>Creates one IKfd (per VM subtree or per process) over the VA manager that owns its address space.</summary>
public delegate IKfd KfdFactory(VaManager va, TimeProvider? time, ILogger? log);

/// <summary>The chosen backend: <see cref="Factory"/> is null when the requested backend cannot run (see <see cref="Reason"/>).</summary>
public sealed record KfdBackendChoice(string Name, string Reason, KfdFactory? Factory)
{
    public bool Usable => Factory is not null;
}

/// <summary>
/// auto | hsakmt | simulated → a factory. auto picks libhsakmt when the library loads with every required export and
/// /dev/kfd opens, else the simulated KFD; an explicit hsakmt that cannot run is reported, never silently replaced.
/// </summary>
public static class KfdBackendSelector
{
    public static KfdBackendChoice Select(string backend, KfdOptions options, Func<LibHsaKmtProbe>? probe = null)
    {
        var kind = backend.Trim().ToLowerInvariant();
        if (kind is not ("auto" or "hsakmt" or "simulated"))
            throw new ArgumentException($"unknown KFD backend '{backend}' (auto|hsakmt|simulated)");
        if (kind == "simulated")
            return new KfdBackendChoice("simulated", "configured", Simulated(options));

        var p = (probe ?? (() => LibHsaKmtLibrary.Probe(options.LibHsaKmtAbi)))();
        if (p.Usable)
            return new KfdBackendChoice("libhsakmt", $"{HsaKmtNative.Library} and {LibHsaKmtLibrary.KfdDevice} usable (ABI {p.Profile})", LibHsaKmt(p));
        return kind == "hsakmt"
            ? new KfdBackendChoice("libhsakmt", p.Reason!, null)
            : new KfdBackendChoice("simulated", $"auto: {p.Reason}", Simulated(options));
    }

    private static KfdFactory Simulated(KfdOptions options) =>
        (va, time, log) => new SimulatedKfd(options.Simulated, va, time, log);

    private static KfdFactory LibHsaKmt(LibHsaKmtProbe probe) => (va, _, log) =>
    {
        var status = LibHsaKmtKfd.TryOpen(probe, log, out var kfd, va);
        return kfd ?? throw new InvalidOperationException($"hsaKmtOpenKFD failed: {status}");
    };
}
