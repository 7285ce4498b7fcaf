using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.TestSupport.Guest;

/// <summary>A control-queue answer: the response header and every byte the device wrote.</summary>
public sealed record ControlResponse(VirtioGpuCtrlHdr Header, byte[] Data)
{
    public VirtioGpuCtrlType Type => (VirtioGpuCtrlType)Header.type;
    public bool Ok => Header.type is >= (uint)VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA and < (uint)VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC;
    public T Read<T>() where T : unmanaged => MemoryMarshal.Read<T>(Data);
}

/// <summary>
/// The guest kernel's virtio-gpu driver on top of a <see cref="TestVmm"/>: one command at a time on the control
/// queue (callers on several threads interleave command by command), a device-wide fence counter, per-device
/// res_ids and ctx_ids, and host-visible offsets for MAP_BLOB. Several <see cref="RocmProcess"/>es share one.
/// </summary>
public sealed class GuestGpu
{
    public const int ControlQueue = 0;
    private const uint ResponseBytes = 1056;
    private readonly Lock _lock = new();
    private ulong _fence;
    private uint _nextRes;
    private uint _nextCtx;
    private ulong _nextShmOffset;
    private bool _capsetChecked;

    public GuestGpu(TestVmm vmm) => Vmm = vmm;

    public TestVmm Vmm { get; }
    public HostVisibleWindow Window => Vmm.Window ?? throw new InvalidOperationException("the device offered no host-visible region");

    /// <summary>Send one command and wait for its answer.</summary>
    public ControlResponse Command(byte[] request, params byte[][] more)
    {
        lock (_lock)
        {
            Vmm.PutChain(ControlQueue, [request, .. more], [ResponseBytes]);
            Vmm.Kick(ControlQueue);
            return Decode(Vmm.WaitUsed(ControlQueue));
        }
    }

    /// <summary>Put several commands at once and kick once; answers in the order the device used them (token order given back).</summary>
    public IReadOnlyList<(ushort Token, ControlResponse Response)> Batch(IReadOnlyList<byte[]> requests, out ushort[] tokens)
    {
        lock (_lock)
        {
            tokens = requests.Select(r => Vmm.PutChain(ControlQueue, [r], [ResponseBytes])).ToArray();
            Vmm.Kick(ControlQueue);
            var used = new List<(ushort, ControlResponse)>();
            for (int i = 0; i < requests.Count; i++)
            {
                var u = Vmm.WaitUsed(ControlQueue);
                used.Add((u.Token, Decode(u)));
            }
            return used;
        }
    }

    private static ControlResponse Decode(UsedChain used)
    {
        if (used.Written < VirtioGpuCtrlHdr.Size) throw new InvalidOperationException($"device wrote {used.Written} bytes, less than a response header");
        return new ControlResponse(MemoryMarshal.Read<VirtioGpuCtrlHdr>(used.Data), used.Data);
    }

    public ulong NextFence() => Interlocked.Increment(ref _fence);
    public uint NextResourceId() => Interlocked.Increment(ref _nextRes);
    public uint NextContextId() => Interlocked.Increment(ref _nextCtx);

    /// <summary>A free page-aligned range of the host-visible region (the kernel's VRAM allocator).</summary>
    public ulong AllocateShm(ulong size)
    {
        size = (size + 4095) & ~4095UL;
        lock (_lock)
        {
            ulong at = _nextShmOffset;
            _nextShmOffset += size;
            if (_nextShmOffset > Window.Size) throw new InvalidOperationException("host-visible region exhausted");
            return at;
        }
    }

    /// <summary>
    /// GET_CAPSET (8, version 0) once per boot as the kernel does (its cap cache), checked as G-new checks it:
    /// context_type must be 1.
    /// </summary>
    public CapsetHsakmtView Capset()
    {
        lock (_lock)
        {
            var r = Command(GpuRequests.GetCapset(VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT, 0));
            if (r.Type != VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_CAPSET) throw new InvalidOperationException($"GET_CAPSET answered {r.Type}");
            var caps = MemoryMarshal.Read<Transport.Hsakmt.CapsetHsakmt>(r.Data.AsSpan(VirtioGpuRespCapset.CapsetDataOffset));
            _capsetChecked = true;
            return new CapsetHsakmtView(caps.version_major, caps.version_minor, caps.context_type);
        }
    }

    public bool CapsetChecked => _capsetChecked;
}

public readonly record struct CapsetHsakmtView(uint VersionMajor, uint VersionMinor, uint ContextType);
