using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>
/// A virtio device with two queues that completes every chain it pops with 0 bytes: enough for the transport to walk
/// rings in fuzzed guest memory without any device logic behind it.
/// </summary>
public sealed class NullDeviceModel : IVirtioDeviceModel
{
    private volatile IDeviceHost? _host;

    public ulong DeviceFeatures => 1UL << 32 | 1UL << 28 | 1UL << 29; // VERSION_1, INDIRECT_DESC, EVENT_IDX
    public int QueueCount => 2;
    public int ConfigSize => 16;
    public IReadOnlyList<ulong> SharedMemoryRegions { get; } = [0, 1UL << 20];
    public long ChainsCompleted;

    public void ReadConfig(uint offset, Span<byte> destination) => destination.Clear();
    public void WriteConfig(uint offset, ReadOnlySpan<byte> source) { }
    public void OnFeaturesNegotiated(ulong ackedFeatures, ulong ackedProtocolFeatures) { }
    public void Attach(IDeviceHost host) => _host = host;

    public void OnQueueNotified(int queueIndex)
    {
        var queue = _host?.Queue(queueIndex);
        if (queue is null) return;
        while (queue.TryPop(out var chain))
        {
            queue.Complete(chain, 0);
            ChainsCompleted++;
        }
        queue.Flush();
    }

    public void Reset(DeviceResetReason reason) => _host = null;
}
