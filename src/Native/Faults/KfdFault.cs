namespace VhsaKmt.Native.Faults;

/// <summary>What an injected fault does to one <see cref="IKfd"/> call.</summary>
public enum KfdFault
{
    /// <summary>Return <see cref="HsaStatus.NoMemory"/> (the thunk's ENOMEM).</summary>
    NoMemory,
    /// <summary>Return <see cref="HsaStatus.KernelCommunicationError"/> (ioctl failed: GPU reset / device lost).</summary>
    DeviceLost,
    /// <summary>Return <see cref="HsaStatus.WaitTimeout"/> (a wait or a hung firmware call that gave up).</summary>
    Timeout,
    /// <summary>Throw <see cref="InjectedKfdException"/>: a host bug inside the backend.</summary>
    Throw,
}

/// <summary>Thrown by <see cref="FaultInjectingKfd"/> for <see cref="KfdFault.Throw"/>.</summary>
public sealed class InjectedKfdException(string method) : Exception($"injected fault in IKfd.{method}")
{
    public string Method { get; } = method;
}
