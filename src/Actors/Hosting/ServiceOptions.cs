using Akka.Configuration;

namespace VhsaKmt.Actors.Hosting;

/// <summary>Which KFD backend the daemon uses (<c>--backend</c>).</summary>
public enum BackendKind { Auto, HsaKmt, Simulated }

/// <summary>
/// What the daemon's command line and HOCON give the service. Exactly one of
/// <see cref="SocketPath"/> / <see cref="ListenFd"/> is set. <see cref="Config"/> is the merged root
/// config (user file over HOCON.conf defaults); the service reads its keys under <c>vhsakmt</c>.
/// </summary>
public sealed record ServiceOptions(string? SocketPath, int? ListenFd, BackendKind Backend, Config Config);

/// <summary>Returned once the listener is bound: what the start-up line reports.</summary>
public sealed record ServiceStarted(
    Akka.Actor.IActorRef Supervisor,
    string Listening,
    string BackendName,
    string BackendReason,
    IReadOnlyList<string> GpuNodes);
