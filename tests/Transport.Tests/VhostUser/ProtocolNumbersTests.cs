using System.Runtime.InteropServices;
using VhsaKmt.Transport.VhostUser;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>Numbers and sizes from qemu docs/interop/vhost-user.rst and VHOST-USER.md, pinned.</summary>
public sealed class ProtocolNumbersTests
{
    [Theory]
    [InlineData(VhostUserProtocolFeatures.Mq, 0)]
    [InlineData(VhostUserProtocolFeatures.ReplyAck, 3)]
    [InlineData(VhostUserProtocolFeatures.BackendReq, 5)]
    [InlineData(VhostUserProtocolFeatures.Config, 9)]
    [InlineData(VhostUserProtocolFeatures.BackendSendFd, 10)]
    [InlineData(VhostUserProtocolFeatures.ResetDevice, 13)]
    [InlineData(VhostUserProtocolFeatures.ConfigureMemSlots, 15)]
    [InlineData(VhostUserProtocolFeatures.Status, 16)]
    [InlineData(VhostUserProtocolFeatures.Shmem, 22)]
    public void Protocol_feature_bits(VhostUserProtocolFeatures feature, int bit) => Assert.Equal(1UL << bit, (ulong)feature);

    [Fact]
    public void Qemu_11_1_ack_word_is_the_five_features_we_offer_it()
    {
        const ulong seen = 0x400628; // VHOST-USER.md §4
        var expected = VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.Config
            | VhostUserProtocolFeatures.BackendSendFd | VhostUserProtocolFeatures.Shmem;
        Assert.Equal(seen, (ulong)expected);
        Assert.Equal(expected, VhostUserConnection.SupportedProtocolFeatures & expected);
    }

    [Theory]
    [InlineData(VhostUserRequest.GetFeatures, 1)]
    [InlineData(VhostUserRequest.SetMemTable, 5)]
    [InlineData(VhostUserRequest.GetVringBase, 11)]
    [InlineData(VhostUserRequest.SetVringKick, 12)]
    [InlineData(VhostUserRequest.GetProtocolFeatures, 15)]
    [InlineData(VhostUserRequest.SetVringEnable, 18)]
    [InlineData(VhostUserRequest.SetBackendReqFd, 21)]
    [InlineData(VhostUserRequest.GetConfig, 24)]
    [InlineData(VhostUserRequest.GpuSetSocket, 33)]
    [InlineData(VhostUserRequest.ResetDevice, 34)]
    [InlineData(VhostUserRequest.GetMaxMemSlots, 36)]
    [InlineData(VhostUserRequest.AddMemReg, 37)]
    [InlineData(VhostUserRequest.RemMemReg, 38)]
    [InlineData(VhostUserRequest.SetStatus, 39)]
    [InlineData(VhostUserRequest.GetStatus, 40)]
    [InlineData(VhostUserRequest.GetShmemConfig, 44)]
    public void Request_codes(VhostUserRequest request, uint code) => Assert.Equal(code, (uint)request);

    [Fact]
    public void Backend_request_codes()
    {
        Assert.Equal(9u, (uint)VhostUserBackendRequest.ShmemMap);
        Assert.Equal(10u, (uint)VhostUserBackendRequest.ShmemUnmap);
    }

    [Fact]
    public void Wire_struct_sizes()
    {
        Assert.Equal(VhostUserHeader.Size, Marshal.SizeOf<VhostUserHeader>());
        Assert.Equal(VringStatePayload.Size, Marshal.SizeOf<VringStatePayload>());
        Assert.Equal(VringAddrPayload.Size, Marshal.SizeOf<VringAddrPayload>());
        Assert.Equal(MemoryRegionPayload.Size, Marshal.SizeOf<MemoryRegionPayload>());
        Assert.Equal(MemoryTableHeader.Size, Marshal.SizeOf<MemoryTableHeader>());
        Assert.Equal(SingleMemoryRegionPayload.Size, Marshal.SizeOf<SingleMemoryRegionPayload>());
        Assert.Equal(ConfigHeader.Size, Marshal.SizeOf<ConfigHeader>());
        Assert.Equal(ShmemMapPayload.Size, Marshal.SizeOf<ShmemMapPayload>());
        Assert.Equal(8, (int)Marshal.OffsetOf<ShmemMapPayload>(nameof(ShmemMapPayload.FdOffset)));
        Assert.Equal(2056, ShmemConfigWire.Size);
        Assert.Equal(0x1u, VhostUserHeader.Version);
        Assert.Equal(0x4u, VhostUserHeader.ReplyFlag);
        Assert.Equal(0x8u, VhostUserHeader.NeedReplyFlag);
    }
}
