using System.Buffers;
using System.Buffers.Binary;
using VhsaKmt.Actors.Device;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Actors.Tests.Device;

public sealed class VirtioGpuCommandDecoderTests
{
    private readonly FakeGuestMemory _mem = new();
    private readonly VirtioGpuCommandDecoder _decoder = new(new VirtioGpuDecoderLimits(4096, 8));

    private DescriptorChain Chain(params byte[][] readableParts)
    {
        var segs = readableParts.Select(p =>
        {
            ulong at = _mem.Allocate(Math.Max(p.Length, 1));
            _mem.TryWrite(at, p);
            return new GuestSegment(at, (uint)p.Length);
        }).ToList();
        return new DescriptorChain(0, segs, [new GuestSegment(_mem.Allocate(64), 64)], _mem);
    }

    [Fact]
    public void A_chain_shorter_than_the_header_is_malformed_unspec()
    {
        var cmd = Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(new byte[10])));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, cmd.Error);
    }

    [Fact]
    public void A_request_shorter_than_its_struct_is_malformed_and_keeps_the_header_for_the_fence()
    {
        var full = GpuRequests.CtxAttach(3, 9);
        BinaryPrimitives.WriteUInt32LittleEndian(full.AsSpan(4), GpuRequests.FenceAndRing);
        var cmd = Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(full[..28])));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, cmd.Error);
        Assert.True(cmd.Header.IsFenced);
        Assert.Equal(3u, cmd.Header.CtxId);
    }

    [Fact]
    public void Unknown_types_decode_as_unsupported()
    {
        var req = GpuRequests.Bytes(GpuRequests.Header((VirtioGpuCtrlType)0x0777));
        Assert.IsType<UnsupportedCommand>(_decoder.Decode(Chain(req)));
    }

    [Fact]
    public void Submit_payload_split_over_descriptors_is_copied_once_and_whole()
    {
        var payload = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        var req = GpuRequests.Submit3D(1, payload, GpuRequests.FenceAndRing, 5);
        var cmd = Assert.IsType<Submit3DCommand>(_decoder.Decode(Chain(req[..32], req[32..50], req[50..])));
        Assert.Equal(40, cmd.Length);
        Assert.Equal(payload, cmd.Payload.AsSpan(0, 40).ToArray());
        Assert.Equal(5ul, cmd.Header.FenceId);
        ArrayPool<byte>.Shared.Return(cmd.Payload);
    }

    [Fact]
    public void Submit_size_beyond_the_chain_or_the_limit_is_refused()
    {
        var req = GpuRequests.Submit3D(1, new byte[16]);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(24), 17);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(req))).Error);

        var big = GpuRequests.Submit3D(1, new byte[4104]);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(big))).Error);
    }

    [Fact]
    public void Create_blob_mem_entries_are_bounded_by_the_chain_and_the_limit()
    {
        var ok = GpuRequests.CreateBlob(1, 4, 1, 0, 0, 8192, [(0x10000, 4096), (0x20000, 4096)]);
        var blob = Assert.IsType<ResourceCreateBlobCommand>(_decoder.Decode(Chain(ok)));
        Assert.Equal(new[] { new GuestSegment(0x10000, 4096), new GuestSegment(0x20000, 4096) }, blob.Entries);

        var lying = ok[..(56 + 16)]; // claims 2 entries, carries 1
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(lying))).Error);

        var tooMany = GpuRequests.CreateBlob(1, 4, 1, 0, 0, 9 * 4096, Enumerable.Range(0, 9).Select(i => ((ulong)i * 4096, 4096u)).ToList());
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, Assert.IsType<MalformedCommand>(_decoder.Decode(Chain(tooMany))).Error);
    }

    [Fact]
    public void Ctx_create_name_is_bounded_by_nlen_and_sanitised()
    {
        var req = GpuRequests.CtxCreate(2, 8, "hip\u0001app");
        var cmd = Assert.IsType<CtxCreateCommand>(_decoder.Decode(Chain(req)));
        Assert.Equal("hip?app", cmd.DebugName);

        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(24), 1000); // nlen beyond the 64-byte field
        Assert.Equal("hip?app", Assert.IsType<CtxCreateCommand>(_decoder.Decode(Chain(req))).DebugName);
    }

    [Fact]
    public void Device_model_offers_the_capset_8_features_config_and_host_visible_region()
    {
        var settings = DeviceSettings.Default with { HostVisibleSize = 1UL << 30 };
        var model = new VirtioGpuDeviceModel(Akka.Actor.ActorRefs.Nobody, settings);
        Assert.Equal(0x1_0000_0019UL, model.DeviceFeatures); // VERSION_1 | CONTEXT_INIT | RESOURCE_BLOB | VIRGL
        Assert.Equal(new ulong[] { 0, 1UL << 30 }, model.SharedMemoryRegions);
        Assert.Equal(16, model.ConfigSize);
        var config = new byte[16];
        model.ReadConfig(0, config);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(8)));  // num_scanouts
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(12))); // num_capsets
        var tail = new byte[4];
        model.ReadConfig(12, tail);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(tail));
    }

    [Fact]
    public void Missing_blob_and_context_init_features_are_warned_about_once_and_only_after_set_features()
    {
        var sink = new CollectingSink();
        var log = new Serilog.LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();
        var model = new VirtioGpuDeviceModel(Akka.Actor.ActorRefs.Nobody, DeviceSettings.Default, log);
        model.OnFeaturesNegotiated(0, 0x400628);                 // SET_PROTOCOL_FEATURES before SET_FEATURES
        Assert.Empty(sink.Events);
        model.OnFeaturesNegotiated(0x1_0000_0019, 0x400628);     // everything a ROCm guest needs
        Assert.Empty(sink.Events);
        model.OnFeaturesNegotiated(0x1_0000_0001, 0x400628);     // vhost-user-gpu-pci: VIRGL only
        model.OnFeaturesNegotiated(0x1_0000_0001, 0x400628);
        var warning = Assert.Single(sink.Events);
        Assert.Contains("vhost-user-test-device-pci", warning.RenderMessage());
    }

    private sealed class CollectingSink : Serilog.Core.ILogEventSink
    {
        public List<Serilog.Events.LogEvent> Events { get; } = new();
        public void Emit(Serilog.Events.LogEvent logEvent) { lock (Events) Events.Add(logEvent); }
    }

    [Fact]
    public void Device_settings_read_the_hocon_section()
    {
        var cfg = Akka.Configuration.ConfigurationFactory.ParseString("host-visible-size = 256M\nmax-contexts-per-vm = 5\nmax-submit-bytes = 64K");
        var s = DeviceSettings.FromConfig(cfg);
        Assert.Equal(256UL << 20, s.HostVisibleSize);
        Assert.Equal(5, s.MaxContextsPerVm);
        Assert.Equal(64 << 10, s.Limits.MaxSubmitBytes);
        Assert.Equal(DeviceSettings.Default.ContextReplyTimeout, s.ContextReplyTimeout);
    }
}
