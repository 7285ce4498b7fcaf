namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// A virtio device model served over vhost-user (here: virtio-gpu). The vhost-user backend
/// (<c>VhostUserConnection</c>) owns the socket, memory table and rings; it calls the model for
/// everything device-specific. Calls arrive on the connection's IO thread unless noted.
/// </summary>
public interface IVirtioDeviceModel
{
    /// <summary>Device feature bits offered in GET_FEATURES (VERSION_1 etc. included by the model).</summary>
    ulong DeviceFeatures { get; }

    /// <summary>Number of virtqueues (virtio-gpu: 2, control and cursor).</summary>
    int QueueCount { get; }

    /// <summary>Size of the config space (virtio-gpu: 16 = sizeof(struct virtio_gpu_config)).</summary>
    int ConfigSize { get; }

    /// <summary>Sizes of the shared-memory regions, index = shm id (GET_SHMEM_CONFIG). Empty: none.</summary>
    IReadOnlyList<ulong> SharedMemoryRegions { get; }

    void ReadConfig(uint offset, Span<byte> destination);
    void WriteConfig(uint offset, ReadOnlySpan<byte> source);

    /// <summary>The front-end's SET_FEATURES / SET_PROTOCOL_FEATURES outcome.</summary>
    void OnFeaturesNegotiated(ulong ackedFeatures, ulong ackedProtocolFeatures);

    /// <summary>The device is live: queues, memory and the backend channel are reachable through <paramref name="host"/>.</summary>
    void Attach(IDeviceHost host);

    /// <summary>A kick (or a poll hit) on queue <paramref name="queueIndex"/>: pop and process what is available.</summary>
    void OnQueueNotified(int queueIndex);

    /// <summary>RESET_DEVICE / RESET_OWNER / SET_STATUS 0 / disconnect: release everything of this device, in order.</summary>
    void Reset(DeviceResetReason reason);
}

public enum DeviceResetReason { ResetDevice, ResetOwner, StatusZero, Disconnect, ProtocolError }

/// <summary>What the vhost-user backend offers the device model.</summary>
public interface IDeviceHost
{
    /// <summary>Stable id of this connection ("vm-3"), for logs and metrics.</summary>
    string VmId { get; }

    /// <summary>The front-end's memory table (guest-physical addresses → host mappings).</summary>
    IGuestMemory Memory { get; }

    /// <summary>Queue <paramref name="index"/>; null until the front-end has set it up and enabled it.</summary>
    IVirtqueue? Queue(int index);

    /// <summary>The backend→front-end channel (BACKEND_REQ); null when the front-end did not accept it.</summary>
    IBackendChannel? BackendChannel { get; }

    /// <summary>Protocol features the front-end accepted (e.g. SHMEM, bit 22).</summary>
    ulong AckedProtocolFeatures { get; }
}
