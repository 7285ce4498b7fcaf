namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// vhost-user protocol feature bits (vhost-user.rst "Protocol features"). SHMEM is bit 22 as QEMU 11.1
/// acks it (VHOST-USER.md §4: 0x400628 = REPLY_ACK | BACKEND_REQ | CONFIG | BACKEND_SEND_FD | SHMEM).
/// </summary>
[Flags]
public enum VhostUserProtocolFeatures : ulong
{
    None = 0,
    Mq = 1UL << 0,
    LogShmfd = 1UL << 1,
    Rarp = 1UL << 2,
    ReplyAck = 1UL << 3,
    Mtu = 1UL << 4,
    BackendReq = 1UL << 5,
    CrossEndian = 1UL << 6,
    CryptoSession = 1UL << 7,
    Pagefault = 1UL << 8,
    Config = 1UL << 9,
    BackendSendFd = 1UL << 10,
    HostNotifier = 1UL << 11,
    InflightShmfd = 1UL << 12,
    ResetDevice = 1UL << 13,
    InbandNotifications = 1UL << 14,
    ConfigureMemSlots = 1UL << 15,
    Status = 1UL << 16,
    XenMmap = 1UL << 17,
    SharedObject = 1UL << 18,
    DeviceState = 1UL << 19,
    Shmem = 1UL << 22,
}

/// <summary>Virtio feature bits the transport itself owns or offers (bit numbers, as masks).</summary>
public static class VirtioTransportFeatures
{
    /// <summary>VIRTIO_RING_F_INDIRECT_DESC (28): we walk one level of indirect tables.</summary>
    public const ulong IndirectDesc = 1UL << 28;

    /// <summary>VIRTIO_RING_F_EVENT_IDX (29): used_event / avail_event suppression.</summary>
    public const ulong EventIdx = 1UL << 29;

    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES (30): protocol feature negotiation; rings start disabled.</summary>
    public const ulong ProtocolFeatures = 1UL << 30;

    /// <summary>VIRTIO_F_VERSION_1 (32).</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>VIRTIO_F_IOMMU_PLATFORM (33): not supported (ring addresses would be IOVAs).</summary>
    public const ulong IommuPlatform = 1UL << 33;
}
