using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

public sealed class ResetAndTimeoutTests
{
    [Fact]
    public void Reset_device_stops_rings_and_the_device_can_be_brought_up_again()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, device) = harness.Connect();
        using (vmm)
        {
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);

            vmm.Request(VhostUserRequest.ResetDevice);
            Assert.Equal([DeviceResetReason.ResetDevice], device.Resets.ToArray());
            Assert.Null(connection.Queue(0));
            Assert.Null(connection.Queue(1));
            Assert.Equal(0UL, connection.AckedFeatures);
            // Protocol features and memory survive a device reset.
            Assert.Equal(vmm.AckedProtocolFeatures, connection.AckedProtocolFeatures);
            Assert.Equal(2, connection.MemoryTable.RegionCount);

            ulong features = vmm.AckedFeatures;
            vmm.Request(VhostUserRequest.SetFeatures, in features);
            vmm.StartRing(0, vmm.Ring(0).AvailIndex);
            vmm.SetVringEnable(0, true);
            Assert.Equal(2, device.Attaches);
            vmm.PutChain(0, [[2]], [1]);
            vmm.Kick(0);
            Assert.Equal(new byte[] { 2 }, vmm.WaitUsed(0).Data);
        }
    }

    [Fact]
    public void Front_end_stopping_mid_message_is_disconnected_after_the_receive_timeout()
    {
        using var harness = new BackendHarness(options: VhostUserOptions.Default with { ReceiveTimeout = TimeSpan.FromMilliseconds(200) });
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            var torn = new byte[VhostUserHeader.Size + 4];
            BitConverter.TryWriteBytes(torn, (uint)VhostUserRequest.SetFeatures);
            BitConverter.TryWriteBytes(torn.AsSpan(4), VhostUserHeader.Version);
            BitConverter.TryWriteBytes(torn.AsSpan(8), 8u); // promises 8 payload bytes, sends 4
            vmm.SendRawBytes(torn);
            var closed = harness.WaitClosed();
            Assert.Equal(ConnectionCloseReason.ProtocolError, closed.Reason);
            Assert.Equal([DeviceResetReason.ProtocolError], device.Resets.ToArray());
        }
    }
}
