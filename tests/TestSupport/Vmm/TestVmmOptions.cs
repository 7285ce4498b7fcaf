using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>One guest RAM region: guest-physical base and size (each its own memfd).</summary>
public sealed record GuestRamRegion(ulong GuestPhysAddr, ulong Size);

/// <summary>How <see cref="TestVmm"/> behaves as a front-end. Defaults mirror QEMU 11.1's generic device.</summary>
public sealed record TestVmmOptions
{
    /// <summary>Virtqueues to set up (virtio-gpu: 2).</summary>
    public int QueueCount { get; init; } = 2;

    /// <summary>Ring size (QEMU's vq_size default: 64).</summary>
    public ushort QueueSize { get; init; } = 64;

    /// <summary>Config bytes read with GET_CONFIG at "driver OK" (virtio-gpu: 16).</summary>
    public uint ConfigSize { get; init; } = 16;

    /// <summary>Guest RAM, ≥ 2 regions so translation across regions is exercised.</summary>
    public IReadOnlyList<GuestRamRegion> Ram { get; init; } =
    [
        new(0x0000_0000, 2 << 20),
        new(0x4000_0000, 2 << 20),
    ];

    /// <summary>Protocol features acked if offered (QEMU 11.1 acks exactly these: 0x400628).</summary>
    public VhostUserProtocolFeatures WantedProtocolFeatures { get; init; } =
        VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.Config
        | VhostUserProtocolFeatures.BackendSendFd | VhostUserProtocolFeatures.Shmem;

    /// <summary>Ack VIRTIO_RING_F_EVENT_IDX if offered.</summary>
    public bool EventIdx { get; init; } = true;

    /// <summary>Ack VIRTIO_RING_F_INDIRECT_DESC if offered.</summary>
    public bool IndirectDesc { get; init; } = true;

    /// <summary>After replying to SHMEM_MAP/UNMAP, send SET_MEM_TABLE with/without the mapped blob, as QEMU does.</summary>
    public bool ResendMemTableOnShmemMap { get; init; } = true;

    /// <summary>
    /// Send that SET_MEM_TABLE before the SHMEM_MAP/UNMAP reply instead of after it. VHOST-USER.md §5 saw it
    /// after; QEMU's code path (memory listener commit inside the request handler) can put it before, so a
    /// back-end must survive both orders.
    /// </summary>
    public bool MemTableBeforeShmemReply { get; init; }

    /// <summary>Guest-physical base at which the host-visible window (shm id 1) appears in the guest.</summary>
    public ulong HostVisibleGuestPhysAddr { get; init; } = 0x8_0000_0000;

    /// <summary>
    /// Set NEED_REPLY on every request once REPLY_ACK is negotiated, and throw on a failed ack, so a test sees
    /// each request's effect when the call returns (QEMU does not always wait; use SendRaw to send without).
    /// </summary>
    public bool AckEveryRequest { get; init; } = true;

    /// <summary>Bound on every wait for the back-end.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Run the whole QEMU-like handshake in <see cref="TestVmm.Connect"/> (off: do it step by step).</summary>
    public bool Handshake { get; init; } = true;
}
