using System.Buffers.Binary;
using Akka.Actor;
using Serilog;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Device;

/// <summary>
/// The virtio-gpu device as the vhost-user backend sees it: features, config space, the host-visible shared
/// memory region, and queue kicks. Runs on the connection's IO thread: a kick pops every available chain, decodes
/// it (one private copy) and hands it to the connection's <see cref="DeviceActor"/> — one hop per command, no
/// waiting on this thread. The cursor queue is drained and acknowledged here (headless: nothing to show).
/// </summary>
public sealed class VirtioGpuDeviceModel : IVirtioDeviceModel
{
    public const int ControlQueue = 0;
    public const int CursorQueue = 1;
    private const int VirtioFVersion1 = 32;

    private readonly IActorRef _device;
    private readonly VirtioGpuCommandDecoder _decoder;
    private readonly ILogger _log;
    private volatile IDeviceHost? _host;
    private uint _eventsRead;

    public VirtioGpuDeviceModel(IActorRef device, DeviceSettings settings, ILogger? log = null)
    {
        _device = device;
        _decoder = new VirtioGpuCommandDecoder(settings.Limits);
        _log = (log ?? Log.Logger).ForContext<VirtioGpuDeviceModel>();
        SharedMemoryRegions = [0, settings.HostVisibleSize];
    }

    public ulong DeviceFeatures { get; } =
        1UL << VirtioGpuConst.VIRTIO_GPU_F_VIRGL
        | 1UL << VirtioGpuConst.VIRTIO_GPU_F_RESOURCE_BLOB
        | 1UL << VirtioGpuConst.VIRTIO_GPU_F_CONTEXT_INIT
        | 1UL << VirtioFVersion1;

    public int QueueCount => 2;
    public int ConfigSize => VirtioGpuConfig.Size;

    /// <summary>Index = shm id: id 1 is VIRTIO_GPU_SHM_ID_HOST_VISIBLE (VHOST-USER.md §5).</summary>
    public IReadOnlyList<ulong> SharedMemoryRegions { get; }

    /// <summary>Commands handed to the DeviceActor (diagnostics and tests).</summary>
    public long CommandsForwarded => Interlocked.Read(ref _forwarded);
    private long _forwarded;

    public void ReadConfig(uint offset, Span<byte> destination)
    {
        Span<byte> config = stackalloc byte[VirtioGpuConfig.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(config, Volatile.Read(ref _eventsRead));
        BinaryPrimitives.WriteUInt32LittleEndian(config[4..], 0);  // events_clear reads as 0
        BinaryPrimitives.WriteUInt32LittleEndian(config[8..], 0);  // num_scanouts: headless
        BinaryPrimitives.WriteUInt32LittleEndian(config[12..], 1); // num_capsets: capset 8 only
        destination.Clear();
        if (offset >= config.Length) return;
        var src = config[(int)offset..];
        src[..Math.Min(src.Length, destination.Length)].CopyTo(destination);
    }

    public void WriteConfig(uint offset, ReadOnlySpan<byte> source)
    {
        // Only events_clear (offset 4) is writable: clear the named bits of events_read.
        if (offset == 4 && source.Length >= 4)
        {
            uint clear = BinaryPrimitives.ReadUInt32LittleEndian(source);
            uint cur;
            do cur = Volatile.Read(ref _eventsRead);
            while (Interlocked.CompareExchange(ref _eventsRead, cur & ~clear, cur) != cur);
            return;
        }
        _log.Debug("ignored config write of {Length} bytes at {Offset}", source.Length, offset);
    }

    public void OnFeaturesNegotiated(ulong ackedFeatures, ulong ackedProtocolFeatures)
    {
        // Also called at SET_PROTOCOL_FEATURES, before SET_FEATURES (features still 0): judge only a real ack, once.
        const ulong required = 1UL << VirtioGpuConst.VIRTIO_GPU_F_VIRGL | 1UL << VirtioGpuConst.VIRTIO_GPU_F_RESOURCE_BLOB | 1UL << VirtioGpuConst.VIRTIO_GPU_F_CONTEXT_INIT;
        if (ackedFeatures == 0 || (ackedFeatures & required) == required || Interlocked.Exchange(ref _warnedFeatures, 1) != 0) return;
        _log.Warning("Front-end acked virtio-gpu features 0x{Features:x} without RESOURCE_BLOB and CONTEXT_INIT: ROCm's native context (capset 8) cannot start. " +
                     "QEMU's vhost-user-gpu-pci never forwards them; use QEMU >= 11.1 with -device vhost-user-test-device-pci,virtio-id=16,num_vqs=2,config_size=16 " +
                     "and shared guest memory (memory-backend-memfd,share=on)", ackedFeatures);
    }

    private int _warnedFeatures;

    public void Attach(IDeviceHost host)
    {
        _host = host;
        _device.Tell(new DeviceAttached(host));
    }

    public void OnQueueNotified(int queueIndex)
    {
        var host = _host;
        var queue = host?.Queue(queueIndex);
        if (queue is null) return;

        if (queueIndex == CursorQueue)
        {
            bool any = false;
            while (queue.TryPop(out var chain)) { queue.Complete(chain, 0); any = true; }
            if (any) queue.Flush();
            return;
        }
        if (queueIndex != ControlQueue) return;

        while (queue.TryPop(out var chain))
        {
            _device.Tell(_decoder.Decode(chain));
            Interlocked.Increment(ref _forwarded);
        }
    }

    public void Reset(DeviceResetReason reason)
    {
        _host = null;
        Volatile.Write(ref _eventsRead, 0);
        _device.Tell(new DeviceReset(reason));
    }
}
