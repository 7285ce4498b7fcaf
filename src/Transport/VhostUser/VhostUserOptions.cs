namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// Adaptive polling of the rings (HOCON <c>vhsakmt.transport.polling { enabled, spin-microseconds }</c>):
/// after handling work the IO thread keeps checking the avail indices for this long before it blocks,
/// so a guest that submits again quickly costs no kick wake-up.
/// </summary>
public sealed record PollingOptions(bool Enabled, int SpinMicroseconds)
{
    public static readonly PollingOptions Disabled = new(false, 50);
}

/// <summary>Settings of the vhost-user back-end (HOCON <c>vhsakmt.transport</c>).</summary>
public sealed record VhostUserOptions
{
    public static readonly VhostUserOptions Default = new();

    public PollingOptions Polling { get; init; } = PollingOptions.Disabled;

    /// <summary>
    /// Longest wait for the rest of a message once its first byte arrived (HOCON
    /// <c>vhsakmt.transport.receive-timeout</c>): a front-end that stops mid-message is dropped, not waited for.
    /// </summary>
    public TimeSpan ReceiveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Prefix of connection ids: "vm-" gives vm-1, vm-2, ... (HOCON <c>vhsakmt.transport.vm-id-prefix</c>).</summary>
    public string VmIdPrefix { get; init; } = "vm-";
}
