using Akka.Actor;

namespace VhsaKmt.Actors.Hosting;

/// <summary>
/// Starts the VhsaKmt service inside an actor system. PLACEHOLDER written by the daemon engineer so
/// vhsakmtd compiles; the device engineer replaces the body (signature is the contract).
/// </summary>
public static class VhsaKmtService
{
    public static Task<ServiceStarted> StartAsync(ActorSystem system, ServiceOptions options, CancellationToken ct)
        => throw new NotImplementedException("VhsaKmtService has not landed yet");
}
