using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.TestKit;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Device;
using VhsaKmt.Actors.Messages;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Tests.Device;

/// <summary>A DeviceActor behind its device model, with fake queues/memory/channel and probe contexts.</summary>
public sealed class DeviceHarness
{
    public const ulong ShmemAcked = 1UL << 22;

    /// <param name="fastPath">Inline fast path per context: the model and the device then share <see cref="Lanes"/>.</param>
    public DeviceHarness(Akka.TestKit.Xunit2.TestKit kit, DeviceSettings? settings = null, bool withShmem = true, Func<ContextInfo, ContextFastPath?>? fastPath = null,
        string vmId = "vm-test")
    {
        Settings = settings ?? DeviceSettings.Default;
        Memory = new FakeGuestMemory();
        Channel = new FakeBackendChannel();
        Host = new FakeDeviceHost(Memory, withShmem ? Channel : null, withShmem ? ShmemAcked : 0, vmId);
        Contexts = kit.CreateTestProbe("contexts");
        Spawner = new ProbeContextSpawner(Contexts.Ref, fastPath);
        Lanes = fastPath is null ? null : new ContextLanes();
        var capset = new CapsetHsakmt { version_major = 1, version_minor = 17, context_type = VirtioGpuConst.VIRTGPU_HSAKMT_CONTEXT_AMDGPU };
        Device = kit.Sys.ActorOf(DeviceActor.Props(Settings, Spawner, capset, lanes: Lanes), "device-" + Interlocked.Increment(ref s_n));
        Model = new VirtioGpuDeviceModel(Device, Settings, lanes: Lanes);
        Model.Attach(Host);
    }

    private static int s_n;

    public DeviceSettings Settings { get; }
    public FakeGuestMemory Memory { get; }
    public FakeBackendChannel Channel { get; }
    public FakeDeviceHost Host { get; }
    public TestProbe Contexts { get; }
    public ProbeContextSpawner Spawner { get; }
    public ContextLanes? Lanes { get; }
    public IActorRef Device { get; }
    public VirtioGpuDeviceModel Model { get; }

    /// <summary>Put the requests on the control queue and kick once.</summary>
    public SentRequest[] Send(params byte[][] requests)
    {
        var sent = requests.Select(r => ChainFactory.Make(Memory, r)).ToArray();
        foreach (var s in sent) Host.Control.Push(s.Chain);
        Model.OnQueueNotified(VirtioGpuDeviceModel.ControlQueue);
        return sent;
    }

    public SentRequest SendOne(byte[] request) => Send(request)[0];

    public bool IsCompleted(SentRequest r) => Host.Control.Used.Any(u => ReferenceEquals(u.Chain, r.Chain));

    public int CompletionIndex(SentRequest r) => Host.Control.Used.ToList().FindIndex(u => ReferenceEquals(u.Chain, r.Chain));

    public byte[] ResponseBytes(SentRequest r) => Memory.Read(r.ResponseGpa, r.ResponseSize);

    public VirtioGpuCtrlHdr Response(SentRequest r) => GpuRequests.ReadHeader(ResponseBytes(r));

    public VirtioGpuCtrlType ResponseType(SentRequest r) => (VirtioGpuCtrlType)Response(r).type;

    /// <summary>Create context <paramref name="ctx"/> and swallow nothing (the probe sees no message for CTX_CREATE).</summary>
    public void CreateContext(Akka.TestKit.Xunit2.TestKit kit, uint ctx)
    {
        var r = SendOne(GpuRequests.CtxCreate(ctx, VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT, "proc" + ctx));
        kit.AwaitCondition(() => IsCompleted(r), TimeSpan.FromSeconds(3));
        if (ResponseType(r) != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA) throw new InvalidOperationException("CTX_CREATE failed: " + ResponseType(r));
    }

    public T Read<T>(SentRequest r) where T : struct => MemoryMarshal.Read<T>(ResponseBytes(r));
}
