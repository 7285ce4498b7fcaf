using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

public sealed class HandshakeTests
{
    [Fact]
    public void Qemu_handshake_negotiates_features_config_shmem_and_live_queues()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, device) = harness.Connect();
        using (vmm)
        {
            Assert.Empty(harness.Log.Messages());
            ulong expectedOffer = VirtioTransportFeatures.Version1 | VirtioTransportFeatures.ProtocolFeatures
                | VirtioTransportFeatures.EventIdx | VirtioTransportFeatures.IndirectDesc;
            Assert.Equal(expectedOffer, vmm.OfferedFeatures);
            Assert.Equal(expectedOffer, vmm.AckedFeatures);
            Assert.Equal(expectedOffer, connection.AckedFeatures);
            // Exactly what QEMU 11.1 acks (VHOST-USER.md §4).
            Assert.Equal(0x400628UL, vmm.AckedProtocolFeatures);
            Assert.Equal(0x400628UL, connection.AckedProtocolFeatures);
            Assert.Equal((expectedOffer, 0x400628UL), device.Negotiated);
            Assert.Equal(new ulong[] { 0, EchoDevice.WindowSize }, vmm.ShmemSizes);
            Assert.NotNull(vmm.Window);
            Assert.Equal(device.ConfigBytes, vmm.Config);
            Assert.Equal("vm-1", connection.VmId);
            Assert.Equal(1, device.Attaches);
            Assert.Same(connection, device.Host);
            Assert.NotNull(connection.Queue(0));
            Assert.NotNull(connection.Queue(1));
            Assert.Null(connection.Queue(2));
            Assert.NotNull(connection.BackendChannel);
            Assert.Equal(2, connection.MemoryTable.RegionCount);
        }
    }

    [Fact]
    public void Get_queries_answer_with_the_device_and_table_limits()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            Assert.Equal(2UL, vmm.Request(VhostUserRequest.GetQueueNum)!.U64);
            Assert.Equal((ulong)GuestMemoryTable.MaxSlots, vmm.Request(VhostUserRequest.GetMaxMemSlots)!.U64);
            vmm.RequestAcked(VhostUserRequest.SetStatus, 0x0FUL);
            Assert.Equal(0x0FUL, vmm.Request(VhostUserRequest.GetStatus)!.U64);
        }
    }

    [Fact]
    public void Set_config_reaches_the_model_and_get_config_past_the_space_reads_zeros()
    {
        using var harness = new BackendHarness();
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            var set = new byte[ConfigHeader.Size + 2];
            BitConverter.TryWriteBytes(set, 4u);
            BitConverter.TryWriteBytes(set.AsSpan(4), 2u);
            set[12] = 0x11; set[13] = 0x22;
            Assert.Equal(0UL, vmm.Request(VhostUserRequest.SetConfig, set, needReply: true)!.U64);
            Assert.Equal(new byte[] { 0x11, 0x22 }, device.ConfigBytes[4..6]);

            // Writing past the config space is refused.
            BitConverter.TryWriteBytes(set, 15u);
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetConfig, set, needReply: true)!.U64);

            // QEMU's vhost-user-gpu-pci reads 20 bytes of the 16: it gets all 20, the tail zero.
            var get = new byte[ConfigHeader.Size + 8];
            BitConverter.TryWriteBytes(get, 12u);
            BitConverter.TryWriteBytes(get.AsSpan(4), 8u);
            var reply = vmm.Request(VhostUserRequest.GetConfig, get)!;
            Assert.Equal(ConfigHeader.Size + 8, reply.Payload.Length);
            Assert.Equal(8u, BitConverter.ToUInt32(reply.Payload, 4));
            Assert.Equal([.. device.ConfigBytes[12..16], 0, 0, 0, 0], reply.Payload[ConfigHeader.Size..]);

            // Entirely past the end: all zeros, still the size asked for.
            BitConverter.TryWriteBytes(get, 200u);
            reply = vmm.Request(VhostUserRequest.GetConfig, get)!;
            Assert.Equal(new byte[8], reply.Payload[ConfigHeader.Size..]);
        }
    }

    [Fact]
    public void Status_zero_resets_the_device_and_stops_its_queues()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, device) = harness.Connect();
        using (vmm)
        {
            vmm.RequestAcked(VhostUserRequest.SetStatus, 0UL);
            Assert.Equal([DeviceResetReason.StatusZero], device.Resets.ToArray());
            Assert.Null(connection.Queue(0));
            Assert.Equal(0UL, connection.AckedFeatures);
        }
    }

    [Fact]
    public void Gpu_set_socket_fd_is_held_without_a_reply()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var (a, b) = Transport.Interop.UnixSocket.Pair();
            using (a) using (b)
            {
                vmm.SendRaw((uint)VhostUserRequest.GpuSetSocket, 0, ReadOnlySpan<byte>.Empty, [b]);
                Assert.Null(vmm.TryReadMessage(TimeSpan.FromMilliseconds(100)));
                // Still served afterwards.
                Assert.Equal(2UL, vmm.Request(VhostUserRequest.GetQueueNum)!.U64);
            }
        }
    }
}
