using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Device;

// Messages from the device model (connection IO thread) to its DeviceActor, and the DeviceActor's own
// continuations. Decoded commands themselves travel as VhsaKmt.Transport.VirtioGpu.GpuCommand records.

/// <summary>The front-end made the device live: queues, memory and the backend channel are reachable.</summary>
public sealed record DeviceAttached(IDeviceHost Host);

/// <summary>Reset or disconnect: tear every context down in order; on <see cref="DeviceResetReason.Disconnect"/> the actor stops afterwards.</summary>
public sealed record DeviceReset(DeviceResetReason Reason);

/// <summary>Published by a DeviceActor when it stopped after a disconnect (to its parent).</summary>
public sealed record DeviceStopped(string VmId);
