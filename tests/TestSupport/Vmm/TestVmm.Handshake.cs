using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.TestSupport.Vmm;

// The QEMU 11.1 sequence (VHOST-USER.md §4), split at the two moments QEMU splits it, plus ring control.
public sealed partial class TestVmm
{
    /// <summary>
    /// Device realize: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_BACKEND_REQ_FD, SET_OWNER, GET_FEATURES,
    /// SET_VRING_CALL/ERR per queue, GET_SHMEM_CONFIG.
    /// </summary>
    public void Realize()
    {
        OfferedFeatures = Request(VhostUserRequest.GetFeatures)!.U64;
        if ((OfferedFeatures & VirtioTransportFeatures.ProtocolFeatures) == 0)
            throw new InvalidOperationException("back-end does not offer VHOST_USER_F_PROTOCOL_FEATURES");
        OfferedProtocolFeatures = Request(VhostUserRequest.GetProtocolFeatures)!.U64;
        AckedProtocolFeatures = OfferedProtocolFeatures & (ulong)Options.WantedProtocolFeatures;
        ulong acked = AckedProtocolFeatures;
        Request(VhostUserRequest.SetProtocolFeatures, in acked);

        if (Has(VhostUserProtocolFeatures.BackendReq)) OpenBackendChannel();
        Request(VhostUserRequest.SetOwner);
        Request(VhostUserRequest.GetFeatures);
        for (int q = 0; q < _rings.Length; q++)
        {
            SetVringFd(VhostUserRequest.SetVringCall, q, _rings[q].Call);
            using var err = EventFd.Create();
            SetVringFd(VhostUserRequest.SetVringErr, q, err);
        }
        if (Has(VhostUserProtocolFeatures.Shmem))
        {
            var reply = Request(VhostUserRequest.GetShmemConfig)!.Payload;
            uint n = BitConverter.ToUInt32(reply);
            var sizes = new ulong[n];
            for (int i = 0; i < n; i++) sizes[i] = BitConverter.ToUInt64(reply, 8 + 8 * i);
            ShmemSizes = sizes;
            // virtio-gpu's host-visible region is shm id 1.
            if (sizes.Length > 1 && sizes[1] > 0) Window = new HostVisibleWindow(1, sizes[1]);
        }
    }

    /// <summary>
    /// Driver OK: GET_CONFIG ×2, SET_FEATURES, SET_MEM_TABLE, per queue NUM/BASE/ADDR/KICK/CALL, ENABLE,
    /// then new call fds (QEMU replaces them after enable).
    /// </summary>
    public void DriverOk()
    {
        var request = new byte[ConfigHeader.Size + (int)Options.ConfigSize];
        var header = new ConfigHeader { Offset = 0, PayloadSize = Options.ConfigSize };
        MemoryMarshal.Write(request, in header);
        for (int i = 0; i < 2; i++)
        {
            Config = Request(VhostUserRequest.GetConfig, request)!.Payload.AsSpan(ConfigHeader.Size).ToArray();
        }
        ulong wanted = ~(VirtioTransportFeatures.EventIdx | VirtioTransportFeatures.IndirectDesc)
            | (Options.EventIdx ? VirtioTransportFeatures.EventIdx : 0) | (Options.IndirectDesc ? VirtioTransportFeatures.IndirectDesc : 0);
        AckedFeatures = OfferedFeatures & wanted;
        ulong features = AckedFeatures;
        Request(VhostUserRequest.SetFeatures, in features);
        SendMemTable();
        for (int q = 0; q < _rings.Length; q++) StartRing(q);
        for (int q = 0; q < _rings.Length; q++) SetVringEnable(q, true);
        for (int q = 0; q < _rings.Length; q++) SetVringFd(VhostUserRequest.SetVringCall, q, _rings[q].RenewCall());
    }

    /// <summary>SET_VRING_NUM/BASE/ADDR/KICK/CALL for <paramref name="queue"/>, starting at avail index <paramref name="base"/>.</summary>
    public void StartRing(int queue, ushort @base = 0)
    {
        var ring = _rings[queue];
        Request(VhostUserRequest.SetVringNum, new VringStatePayload { Index = (uint)queue, Num = ring.Size });
        Request(VhostUserRequest.SetVringBase, new VringStatePayload { Index = (uint)queue, Num = @base });
        var addr = new VringAddrPayload
        {
            Index = (uint)queue,
            DescUserAddr = Ram.UserAddress(ring.DescTable),
            UsedUserAddr = Ram.UserAddress(ring.UsedRing),
            AvailUserAddr = Ram.UserAddress(ring.AvailRing),
        };
        Request(VhostUserRequest.SetVringAddr, in addr);
        SetVringFd(VhostUserRequest.SetVringKick, queue, ring.Kick);
        SetVringFd(VhostUserRequest.SetVringCall, queue, ring.Call);
    }

    /// <summary>SET_VRING_ENABLE.</summary>
    public void SetVringEnable(int queue, bool enable) =>
        Request(VhostUserRequest.SetVringEnable, new VringStatePayload { Index = (uint)queue, Num = enable ? 1u : 0u });

    /// <summary>GET_VRING_BASE: stops the ring; returns the avail index the back-end stopped at.</summary>
    public ushort GetVringBase(int queue) =>
        (ushort)Request(VhostUserRequest.GetVringBase, new VringStatePayload { Index = (uint)queue })!.As<VringStatePayload>().Num;

    /// <summary>SET_VRING_KICK/CALL/ERR with <paramref name="fd"/> (null: the "no fd" bit).</summary>
    public void SetVringFd(VhostUserRequest request, int queue, SafeHandle? fd)
    {
        ulong value = (uint)queue | (fd is null ? VringFdPayload.NoFdFlag : 0UL);
        Request(request, in value, fd is null ? null : [fd]);
    }

    /// <summary>SET_MEM_TABLE (NEED_REPLY) with the RAM regions and every blob mapped in the window.</summary>
    public void SendMemTable()
    {
        lock (_frontEnd) SendMemTableLocked();
    }

    private void SendMemTableLocked()
    {
        var entries = Ram.TableEntries().ToList();
        var fds = new List<SafeHandle>(Ram.Fds);
        if (Window is { } window)
        {
            foreach (var m in window.Mappings)
            {
                entries.Add(new MemoryRegionPayload
                {
                    GuestPhysAddr = Options.HostVisibleGuestPhysAddr + m.ShmOffset, MemorySize = m.Length,
                    UserAddr = window.Address + m.ShmOffset, MmapOffset = m.FdOffset,
                });
                fds.Add(m.Fd);
            }
        }
        // QEMU has 8 slots: beyond that it logs and sends nothing (VHOST-USER.md §5).
        if (entries.Count > MemoryTableHeader.MaxRegions) return;
        var payload = new byte[MemoryTableHeader.Size + entries.Count * MemoryRegionPayload.Size];
        BitConverter.TryWriteBytes(payload, (uint)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            MemoryMarshal.Write(payload.AsSpan(MemoryTableHeader.Size + i * MemoryRegionPayload.Size), in entry);
        }
        if (!SendLocked((uint)VhostUserRequest.SetMemTable, VhostUserHeader.NeedReplyFlag, payload, fds))
            throw new IOException("back-end closed the connection before SET_MEM_TABLE");
        ulong status = ReadReplyLocked((uint)VhostUserRequest.SetMemTable).U64;
        if (status != 0) throw new InvalidOperationException($"SET_MEM_TABLE failed with status {status}");
    }

    private bool Has(VhostUserProtocolFeatures feature) => (AckedProtocolFeatures & (ulong)feature) != 0;
}
