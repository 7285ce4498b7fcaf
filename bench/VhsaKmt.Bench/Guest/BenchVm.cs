using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Bench.Guest;

/// <summary>
/// One benchmark VM: a <see cref="TestVmm"/> connected to the daemon's socket (real vhost-user handshake,
/// real rings and eventfds) and the guest kernel's view of it — the control queue driver, the device-wide
/// fence counter, context ids, resource ids and host-visible window offsets. One thread per VM.
/// </summary>
public sealed class BenchVm : IDisposable
{
    /// <summary>Bytes of the window each context's shmem takes (80 pages rounded up to 1 MiB).</summary>
    private const ulong ShmemStride = 1 << 20;
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(10);

    private readonly ChainSlot _setup;
    private ulong _fenceId;
    private uint _nextResId = 1;
    private ulong _nextWindowOffset;

    private BenchVm(TestVmm vmm, int vmIndex)
    {
        Vmm = vmm;
        Index = vmIndex;
        Queue = new ControlQueue(vmm, 0);
        _setup = Queue.NewSlot(4096, 64);
    }

    public static BenchVm Connect(string socketPath, int vmIndex, int queueSize)
    {
        var vmm = TestVmm.Connect(socketPath, new TestVmmOptions
        {
            QueueSize = (ushort)queueSize,
            Ram = [new(0x0000_0000, 32 << 20), new(0x4000_0000, 32 << 20)],
            Timeout = TimeSpan.FromSeconds(10),
        });
        try
        {
            if (vmm.Window is null) throw new InvalidOperationException("the daemon offered no host-visible window (SHMEM not negotiated)");
            var vm = new BenchVm(vmm, vmIndex);
            vm.CheckCapset();
            return vm;
        }
        catch
        {
            vmm.Dispose();
            throw;
        }
    }

    public TestVmm Vmm { get; }
    public int Index { get; }
    public ControlQueue Queue { get; }

    public ulong NextFenceId() => ++_fenceId;

    public uint NextResourceId() => _nextResId++;

    /// <summary>Next free 1-MiB-aligned offset in the host-visible window.</summary>
    public ulong NextWindowOffset(ulong size)
    {
        ulong offset = _nextWindowOffset;
        _nextWindowOffset += (size + ShmemStride - 1) / ShmemStride * ShmemStride;
        return offset;
    }

    /// <summary>Send one control command through the setup chain and return the response header type.</summary>
    public unsafe VirtioGpuCtrlType Control(ReadOnlySpan<byte> request, Span<byte> response = default)
    {
        if (request.Length > _setup.RequestCapacity) throw new ArgumentException("request too large for the setup chain");
        request.CopyTo(_setup.RequestSpan);
        new Span<byte>(_setup.Response, _setup.ResponseCapacity).Clear();
        Queue.RoundTrip(_setup, request.Length, SetupTimeout);
        if (!response.IsEmpty) _setup.ResponseSpan[..Math.Min(response.Length, _setup.ResponseCapacity)].CopyTo(response);
        return (VirtioGpuCtrlType)MemoryMarshal.Read<VirtioGpuCtrlHdr>(_setup.ResponseSpan).type;
    }

    /// <summary>Control command that must answer <paramref name="expected"/>.</summary>
    public void Expect(ReadOnlySpan<byte> request, VirtioGpuCtrlType expected, string what)
    {
        var type = Control(request);
        if (type != expected) throw new InvalidOperationException($"{what}: device answered {type}, expected {expected}");
    }

    private void CheckCapset()
    {
        Span<byte> rsp = stackalloc byte[64];
        var type = Control(GpuRequests.GetCapsetInfo(0), rsp);
        if (type != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_CAPSET_INFO)
            throw new InvalidOperationException($"GET_CAPSET_INFO answered {type}");
        uint capsetId = MemoryMarshal.Read<uint>(rsp[24..]);
        if (capsetId != VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT) throw new InvalidOperationException($"capset 0 is {capsetId}, not 8");
    }

    public void Dispose() => Vmm.Dispose();
}
