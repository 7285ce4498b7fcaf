using System.Diagnostics.Metrics;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Metrics;

/// <summary>
/// Attached virtio-gpu devices (one per connection) for the queue-depth gauge: the device model adds its host when the
/// front-end makes it live and removes it at reset or disconnect; the depth is read from the control queue at scrape
/// time, so nothing is recorded on the command path.
/// </summary>
public static class LiveDevices
{
    private static readonly HashSet<IDeviceHost> s_live = new(ReferenceEqualityComparer.Instance);

    public static void Add(IDeviceHost host)
    {
        lock (s_live) s_live.Add(host);
    }

    public static void Remove(IDeviceHost host)
    {
        lock (s_live) s_live.Remove(host);
    }

    internal static void RegisterGauges(Meter meter) =>
        meter.CreateObservableGauge("vhsakmt.virtio_gpu.queue.depth", ObserveDepth, "{command}",
            "control-queue commands popped and not yet answered, per VM (inline and on the actors)");

    private static IEnumerable<Measurement<long>> ObserveDepth()
    {
        IDeviceHost[] hosts;
        lock (s_live) hosts = s_live.ToArray();
        foreach (var h in hosts)
            yield return new Measurement<long>(h.Queue(0)?.InFlight ?? 0, new KeyValuePair<string, object?>("vm", h.VmId));
    }
}
