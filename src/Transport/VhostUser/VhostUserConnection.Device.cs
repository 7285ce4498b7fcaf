using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

// Feature negotiation, ownership, reset, status, config space, shared memory, side channels.
public sealed partial class VhostUserConnection
{
    /// <summary>Protocol features this back-end implements (SHMEM only when the model has regions).</summary>
    public const VhostUserProtocolFeatures SupportedProtocolFeatures =
        VhostUserProtocolFeatures.Mq | VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.BackendReq
        | VhostUserProtocolFeatures.Config | VhostUserProtocolFeatures.BackendSendFd | VhostUserProtocolFeatures.ResetDevice
        | VhostUserProtocolFeatures.ConfigureMemSlots | VhostUserProtocolFeatures.Status | VhostUserProtocolFeatures.Shmem;

    /// <summary>Virtio features offered: the model's, plus what the transport implements itself.</summary>
    public ulong OfferedFeatures =>
        _model.DeviceFeatures | VirtioTransportFeatures.ProtocolFeatures | VirtioTransportFeatures.EventIdx | VirtioTransportFeatures.IndirectDesc;

    public ulong OfferedProtocolFeatures =>
        (ulong)SupportedProtocolFeatures & (_model.SharedMemoryRegions.Count > 0 ? ~0UL : ~(ulong)VhostUserProtocolFeatures.Shmem);

    private Outcome OnGetFeatures() => ReplyU64(OfferedFeatures);

    private Outcome OnSetFeatures()
    {
        ulong features = _reader.ReadU64();
        ulong unexpected = features & ~OfferedFeatures;
        // vhost-user-gpu-pci acks transport bits it never saw offered (VHOST-USER.md §6): note, don't refuse.
        if (unexpected != 0) _log.Warning("Front-end acked features 0x{Unexpected:x} that were not offered", unexpected);
        if ((features & VirtioTransportFeatures.IommuPlatform) != 0)
            throw Refuse("VIRTIO_F_IOMMU_PLATFORM is not supported");
        Volatile.Write(ref _ackedFeatures, features);
        _log.Information("Features acked 0x{Features:x}", features);
        _model.OnFeaturesNegotiated(features, _ackedProtocolFeatures);
        return Outcome.Ok;
    }

    private Outcome OnGetProtocolFeatures() => ReplyU64(OfferedProtocolFeatures);

    private Outcome OnSetProtocolFeatures()
    {
        ulong features = _reader.ReadU64();
        ulong unexpected = features & ~OfferedProtocolFeatures;
        if (unexpected != 0) _log.Warning("Front-end acked protocol features 0x{Unexpected:x} that were not offered; ignored", unexpected);
        Volatile.Write(ref _ackedProtocolFeatures, features & OfferedProtocolFeatures);
        _log.Information("Protocol features acked 0x{Features:x}", _ackedProtocolFeatures);
        _model.OnFeaturesNegotiated(_ackedFeatures, _ackedProtocolFeatures);
        return Outcome.Ok;
    }

    private Outcome OnSetOwner() => Outcome.Ok;

    private Outcome OnReset(DeviceResetReason reason)
    {
        ResetDevice(reason);
        return Outcome.Ok;
    }

    private Outcome OnSetStatus()
    {
        ulong status = _reader.ReadU64();
        if (status > 0xFF) throw Refuse($"status 0x{status:x} is wider than a byte");
        _status = (byte)status;
        if (status == 0) ResetDevice(DeviceResetReason.StatusZero);
        return Outcome.Ok;
    }

    /// <summary>Stop every ring, reset the model and forget the acked virtio features; memory and channels stay.</summary>
    private void ResetDevice(DeviceResetReason reason)
    {
        _log.Information("Device reset ({Reason})", reason);
        foreach (var slot in _slots)
        {
            if (slot.Kick is { } kick) _epoll.Remove(kick.Fd);
            slot.Clear();
        }
        _model.Reset(reason);
        _attached = false;
        _status = 0;
        Volatile.Write(ref _ackedFeatures, 0UL);
    }

    private Outcome OnGetConfig()
    {
        var header = _reader.ReadConfig(out _);
        Span<byte> reply = stackalloc byte[ConfigHeader.Size + ConfigHeader.MaxPayload];
        System.Runtime.InteropServices.MemoryMarshal.Write(reply, in header);
        var data = reply.Slice(ConfigHeader.Size, (int)header.PayloadSize);
        data.Clear();
        // Bytes past the device's config space read as zero, like unimplemented config bytes on virtio-pci:
        // QEMU's vhost-user-gpu-pci asks for 20 bytes of a 16-byte virtio_gpu_config and fails the device
        // ("Received bad msg size") on any reply shorter than it asked for.
        ulong end = (ulong)header.Offset + header.PayloadSize;
        if (end > (ulong)_model.ConfigSize)
            _log.Debug("GET_CONFIG [{Offset}, +{Size}) reaches past the {ConfigSize}-byte config space; the rest reads as zero", header.Offset, header.PayloadSize, _model.ConfigSize);
        if (header.Offset < (uint)_model.ConfigSize)
        {
            int inside = (int)Math.Min(header.PayloadSize, (uint)_model.ConfigSize - header.Offset);
            _model.ReadConfig(header.Offset, data[..inside]);
        }
        return ReplyBytes(reply[..(ConfigHeader.Size + (int)header.PayloadSize)]);
    }

    private Outcome OnSetConfig()
    {
        var header = _reader.ReadConfig(out var data);
        if ((ulong)header.Offset + header.PayloadSize > (ulong)_model.ConfigSize)
            throw Refuse($"SET_CONFIG [{header.Offset}, +{header.PayloadSize}) outside the {_model.ConfigSize}-byte config space");
        _model.WriteConfig(header.Offset, data);
        return Outcome.Ok;
    }

    private Outcome OnGetShmemConfig()
    {
        var sizes = _model.SharedMemoryRegions;
        if (sizes.Count > ShmemConfigWire.MaxRegions) throw new InvalidOperationException($"model has {sizes.Count} shared memory regions");
        Span<byte> reply = stackalloc byte[ShmemConfigWire.Size];
        reply.Clear();
        BitConverter.TryWriteBytes(reply, (uint)sizes.Count);
        for (int i = 0; i < sizes.Count; i++) BitConverter.TryWriteBytes(reply[(8 + 8 * i)..], sizes[i]);
        return ReplyBytes(reply);
    }

    private Outcome OnSetBackendReqFd()
    {
        var fd = _reader.TakeFd(0);
        var channel = new BackendChannel(fd, HasProtocolFeature(VhostUserProtocolFeatures.BackendSendFd), _log);
        var old = Interlocked.Exchange(ref _backend, channel);
        old?.Dispose();
        return Outcome.Ok;
    }

    private Outcome OnGpuSetSocket()
    {
        // vhost-user-gpu's display channel: a compute back-end holds it unused (VHOST-USER.md §6).
        var fd = _reader.TakeFd(0);
        _gpuSocket?.Dispose();
        _gpuSocket = fd;
        return Outcome.Ok;
    }
}
