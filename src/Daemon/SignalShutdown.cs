using System.Runtime.InteropServices;
using Akka.Actor;
using Serilog;

namespace VhsaKmt.Daemon;

/// <summary>
/// Turns SIGINT/SIGTERM into one run of Akka's CoordinatedShutdown (which lets the service close its
/// listener and remove the socket file in its own phase). The default .NET handling is cancelled so
/// the process stays alive until the actor system has terminated.
/// </summary>
public sealed class SignalShutdown : IDisposable
{
    /// <summary>Why CoordinatedShutdown ran: a termination signal.</summary>
    public sealed class SignalReason(PosixSignal signal) : CoordinatedShutdown.Reason
    {
        public PosixSignal Signal { get; } = signal;
        public override int ExitCode => 0;
        public override string ToString() => $"signal {Signal}";
    }

    private readonly PosixSignalRegistration[] _registrations;
    private int _signalled;

    public SignalShutdown(ActorSystem system, ILogger log)
    {
        void Handle(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Exchange(ref _signalled, 1) != 0)
            {
                log.Warning("{Signal} received while already shutting down", context.Signal);
                return;
            }
            log.Information("{Signal} received, shutting down", context.Signal);
            _ = CoordinatedShutdown.Get(system).Run(new SignalReason(context.Signal));
        }

        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
        ];
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }
}
