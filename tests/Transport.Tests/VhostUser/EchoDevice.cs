using System.Collections.Concurrent;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>
/// A tiny device model that exercises the transport alone: every chain's readable bytes are copied to its
/// writable part and the chain is completed with the bytes written. Records what the transport told it.
/// </summary>
internal sealed class EchoDevice : IVirtioDeviceModel
{
    public const ulong WindowSize = 16 << 20;
    private readonly byte[] _config = Enumerable.Range(0, 16).Select(i => (byte)(0xA0 + i)).ToArray();

    public ulong DeviceFeatures => VirtioTransportFeatures.Version1;
    public int QueueCount => 2;
    public int ConfigSize => _config.Length;
    public IReadOnlyList<ulong> SharedMemoryRegions { get; init; } = [0, WindowSize];

    /// <summary>When set, chains are popped and kept (never completed): "in flight".</summary>
    public bool HoldChains { get; set; }

    /// <summary>Run on the IO thread at each notification before echoing (e.g. to send backend requests).</summary>
    public Action<IDeviceHost, int>? OnNotify { get; set; }

    public IDeviceHost? Host { get; private set; }
    public ConcurrentQueue<DescriptorChain> Held { get; } = new();
    public ConcurrentQueue<DeviceResetReason> Resets { get; } = new();
    public (ulong Features, ulong Protocol) Negotiated { get; private set; }
    public int Attaches;
    public int Notifications;
    public readonly ManualResetEventSlim ResetSeen = new();

    public byte[] ConfigBytes => _config.ToArray();

    public void ReadConfig(uint offset, Span<byte> destination) => _config.AsSpan((int)offset, destination.Length).CopyTo(destination);

    public void WriteConfig(uint offset, ReadOnlySpan<byte> source) => source.CopyTo(_config.AsSpan((int)offset));

    public void OnFeaturesNegotiated(ulong ackedFeatures, ulong ackedProtocolFeatures) => Negotiated = (ackedFeatures, ackedProtocolFeatures);

    public void Attach(IDeviceHost host)
    {
        Host = host;
        Interlocked.Increment(ref Attaches);
    }

    public void OnQueueNotified(int queueIndex)
    {
        Interlocked.Increment(ref Notifications);
        OnNotify?.Invoke(Host!, queueIndex);
        var queue = Host!.Queue(queueIndex);
        if (queue is null) return;
        while (queue.TryPop(out var chain))
        {
            if (HoldChains)
            {
                Held.Enqueue(chain);
                continue;
            }
            var data = new byte[chain.ReadableLength];
            int read = chain.ReadAt(0, data);
            int written = chain.Write(data.AsSpan(0, read));
            queue.Complete(chain, (uint)written);
        }
        queue.Flush();
    }

    public void Reset(DeviceResetReason reason)
    {
        Resets.Enqueue(reason);
        ResetSeen.Set();
    }
}
