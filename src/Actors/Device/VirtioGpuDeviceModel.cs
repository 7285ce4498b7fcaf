using System.Buffers;
using System.Buffers.Binary;
using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Metrics;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Device;

/// <summary>
/// The virtio-gpu device as the vhost-user backend sees it: features, config space, the host-visible shared
/// memory region, and queue kicks. Runs on the connection's IO thread: a kick pops every available chain.
/// <para>A SUBMIT_3D whose context has nothing outstanding, while nothing device-wide is outstanding, runs
/// right here (<see cref="ContextFastPath"/>): answered, put on the used ring and signalled from this thread, so a
/// synchronous guest call costs the kick and the call and no other wake-up (DESIGN.md "hot path"). Everything else
/// is decoded (one private copy) and handed to the connection's <see cref="DeviceActor"/>, and counted as outstanding
/// until the queue puts it on the used ring — per context when its header names a context with a lane, else
/// device-wide (CTX_CREATE, UNREF, MAP/UNMAP, display) — which is what keeps the inline path in queue order: fences
/// per (ctx, ring), a context's CREATE_BLOB/ATTACH/DESTROY before its later submits, device-wide commands before
/// everything after them. Other contexts' outstanding commands do not hold a context back.</para>
/// The cursor queue is drained and acknowledged here (headless: nothing to show).
/// </summary>
public sealed class VirtioGpuDeviceModel : IVirtioDeviceModel
{
    public const int ControlQueue = 0;
    public const int CursorQueue = 1;
    private const int VirtioFVersion1 = 32;

    private readonly IActorRef _device;
    private readonly VirtioGpuCommandDecoder _decoder;
    private readonly ILogger _log;
    private readonly ContextLanes? _lanes;
    private readonly int _maxTrackedContexts;
    private volatile IDeviceHost? _host;
    private uint _eventsRead;

    // IO thread only. Outstanding chains handed to the DeviceActor: per ctx id (only ids that had a lane when the
    // command was popped), and device-wide. Replaced, not reset, when the control queue is set up again: chains of
    // the old ring still count down their old counters.
    private IVirtqueue? _trackedQueue;
    private InFlightCounter _deviceWideInFlight = new();
    private readonly Dictionary<uint, InFlightCounter> _contextInFlight = new();
    private readonly byte[] _response = new byte[VirtioGpuCtrlHdr.Size];
    private bool _completedInline;

    /// <param name="lanes">The contexts that may run inline (shared with the DeviceActor); null: every command goes to the actor.</param>
    public VirtioGpuDeviceModel(IActorRef device, DeviceSettings settings, ILogger? log = null, ContextLanes? lanes = null)
    {
        _device = device;
        _lanes = lanes;
        _maxTrackedContexts = Math.Max(16, 2 * settings.MaxContextsPerVm);
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

    /// <summary>
    /// Commands handed to the DeviceActor and not yet on the used ring, as the inline path counts them. Read it on the
    /// thread that notifies the queue (diagnostics and tests).
    /// </summary>
    public int Outstanding
    {
        get
        {
            int n = _deviceWideInFlight.Count;
            foreach (var c in _contextInFlight.Values) n += c.Count;
            return n;
        }
    }

    /// <summary>SUBMIT_3Ds answered on the IO thread (diagnostics and tests).</summary>
    public long SubmitsInline => Interlocked.Read(ref _inline);
    private long _inline;

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
        if (_host is { } previous) LiveDevices.Remove(previous);
        _host = host;
        LiveDevices.Add(host);
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

        if (!ReferenceEquals(queue, _trackedQueue))
        {
            _trackedQueue = queue;
            _deviceWideInFlight = new InFlightCounter();
            _contextInFlight.Clear();
        }
        _completedInline = false;
        while (queue.TryPop(out var chain))
        {
            if (_lanes is not null && TrySubmitInline(host!, queue, chain)) continue;
            Forward(_decoder.Decode(chain));
        }
        // One call for everything answered in this pass (EVENT_IDX decides whether it is needed).
        if (_completedInline) queue.Flush();
    }

    /// <summary>
    /// Runs <paramref name="chain"/> inline if it is a SUBMIT_3D that may (see the class summary); otherwise leaves it
    /// untouched (false) or, once its payload is copied, hands the copy on (true).
    /// </summary>
    private bool TrySubmitInline(IDeviceHost host, IVirtqueue queue, DescriptorChain chain)
    {
        if (_deviceWideInFlight.Count != 0 || !_decoder.TryPeekSubmit(chain, out var header, out int size)) return false;
        // A fence without ring_idx is on the device-wide timeline, shared with every context: leave it to the actor.
        if (header.IsFenced && !header.HasRingIdx) return false;
        uint ctx = header.CtxId;
        if (!_lanes!.TryGet(ctx, out var fast)) return false;
        if (_contextInFlight.TryGetValue(ctx, out var outstanding) && outstanding.Count != 0) return false;

        var payload = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        if (!VirtioGpuCommandDecoder.TryCopySubmitPayload(chain, payload.AsSpan(0, size)))
        {
            ArrayPool<byte>.Shared.Return(payload);
            return false; // Decode reads it again and answers the error
        }
        var outcome = fast.TryRun(payload.AsSpan(0, size));
        if (outcome == InlineOutcome.NotRun)
        {
            Forward(new Submit3DCommand(header, chain, payload, size));
            return true;
        }
        ArrayPool<byte>.Shared.Return(payload);

        var type = outcome == InlineOutcome.Answered ? VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA : VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC;
        int length = VirtioGpuResponseWriter.WriteNoData(_response, header, type);
        int written = chain.Write(_response.AsSpan(0, length));
        queue.Complete(chain, (uint)written);
        _completedInline = true;
        Interlocked.Increment(ref _inline);
        VhsaKmtMetrics.RecordGpuCommand(host.VmId, SubmitName, outcome == InlineOutcome.Answered ? CommandResult.Ok : CommandResult.HostError);
        if (header.IsFenced) VhsaKmtMetrics.RecordFenceRetired(host.VmId);
        VhsaKmtMetrics.RecordInlineSubmit(host.VmId);
        return true;
    }

    private static readonly string SubmitName = CommandNames.Of(VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D);

    private void Forward(GpuCommand cmd)
    {
        if (_lanes is not null) cmd.Chain.TrackIn(CounterFor(cmd));
        _device.Tell(cmd);
        Interlocked.Increment(ref _forwarded);
    }

    private InFlightCounter CounterFor(GpuCommand cmd)
    {
        uint ctx = cmd.Header.CtxId;
        if (_contextInFlight.TryGetValue(ctx, out var counter)) return counter;
        // Only ctx ids with a lane get their own counter, so a guest cannot grow this table with made-up ids.
        if (!_lanes!.TryGet(ctx, out _)) return _deviceWideInFlight;
        if (_contextInFlight.Count >= _maxTrackedContexts) PruneIdleCounters();
        return _contextInFlight[ctx] = new InFlightCounter();
    }

    private void PruneIdleCounters()
    {
        foreach (var (ctx, counter) in _contextInFlight)
            if (counter.Count == 0 && !_lanes!.TryGet(ctx, out _)) _contextInFlight.Remove(ctx);
    }

    public void Reset(DeviceResetReason reason)
    {
        if (_host is { } host) LiveDevices.Remove(host);
        _host = null;
        Volatile.Write(ref _eventsRead, 0);
        _device.Tell(new DeviceReset(reason));
    }
}
