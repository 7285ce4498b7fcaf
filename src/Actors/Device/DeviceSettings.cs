using Akka.Configuration;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Device;

/// <summary>The <c>vhsakmt.device</c> HOCON section.</summary>
public sealed record DeviceSettings(
    ulong HostVisibleSize,
    int MaxContextsPerVm,
    VirtioGpuDecoderLimits Limits,
    TimeSpan ContextReplyTimeout,
    TimeSpan ShmemRequestTimeout,
    TimeSpan TeardownTimeout,
    string? Dispatcher = null,
    bool InlineSubmits = true)
{
    public static DeviceSettings Default { get; } = new(
        8UL << 30, 64, VirtioGpuDecoderLimits.Default, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

    /// <summary>Read from <paramref name="device"/> (the <c>vhsakmt.device</c> section); missing keys keep their defaults.</summary>
    public static DeviceSettings FromConfig(Config? device)
    {
        var d = Default;
        if (device is null || device.IsEmpty) return d;
        long? hv = device.GetByteSize("host-visible-size", null);
        return new DeviceSettings(
            hv is > 0 ? (ulong)hv.Value : d.HostVisibleSize,
            device.GetInt("max-contexts-per-vm", d.MaxContextsPerVm),
            new VirtioGpuDecoderLimits(
                (int)(device.GetByteSize("max-submit-bytes", null) ?? d.Limits.MaxSubmitBytes),
                device.GetInt("max-mem-entries", d.Limits.MaxMemEntries)),
            device.GetTimeSpan("context-reply-timeout", d.ContextReplyTimeout),
            device.GetTimeSpan("shmem-request-timeout", d.ShmemRequestTimeout),
            device.GetTimeSpan("teardown-timeout", d.TeardownTimeout),
            device.GetString("dispatcher", "") is { Length: > 0 } dispatcher ? dispatcher : null,
            device.GetBoolean("inline-submits", d.InlineSubmits));
    }
}
