using Serilog;
using VhsaKmt.Native;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// What a ContextActor needs from its surroundings. <see cref="Va"/> hands the context its slice (reserved lazily
/// at the first OPEN_KFD / allocation). <see cref="Tenancy"/> arbitrates process-wide KFD state (XNACK, runtime
/// enable) between the contexts sharing <see cref="Kfd"/>; null = the process-wide registry of that IKfd.
/// </summary>
public sealed record ContextServices(IKfd Kfd, VaManager Va, ContextSettings Settings, IClock Clock, ILogger? Log = null, KfdTenancy? Tenancy = null)
{
    public ILogger Logger => Log ?? Serilog.Log.Logger;
    public KfdTenancy Tenants => Tenancy ?? KfdTenancy.For(Kfd);
}
