using System.Buffers;
using System.Buffers.Binary;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;
using VhsaKmt.TestSupport.Memory;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>
/// The virtio-gpu control command decoder. Input: u8 split count/flags, u16 split seed, then the request bytes, laid
/// out in guest memory as up to 4 non-adjacent readable segments (bit 7 of the first byte adds a segment outside guest
/// memory, as a table changed after pop would) and a 1 KiB writable one. Invariants: never throws, never null;
/// SUBMIT_3D's payload is exactly the size declared and equals the bytes after the 32-byte request; blob and backing
/// entries never exceed the limit and match nr_entries; malformed commands carry a 0x12xx error.
/// </summary>
public sealed class VirtioGpuDecoderTarget : IFuzzTarget
{
    private const ulong Base = 0x10_0000;
    private static readonly VirtioGpuDecoderLimits Limits = new(64 << 10, 64);
    private readonly VirtioGpuCommandDecoder _decoder = new(Limits);

    public string Name => "virtio-gpu-decoder";
    public int MaxInputLength => 8192;

    public IEnumerable<byte[]> Seeds()
    {
        byte[][] requests =
        [
            GpuRequests.GetDisplayInfo(), GpuRequests.GetCapsetInfo(0), GpuRequests.GetCapset(8, 1),
            GpuRequests.CtxCreate(1, 8, "hipcc-fuzz"), GpuRequests.CtxDestroy(1), GpuRequests.CtxAttach(1, 5), GpuRequests.CtxDetach(1, 5),
            GpuRequests.CreateBlob(1, 5, 2, 1, 0, 327680), GpuRequests.CreateBlob(1, 6, 1, 0, 3, 8192, [(0x1000, 4096), (0x3000, 4096)]),
            GpuRequests.MapBlob(1, 5, 0), GpuRequests.UnmapBlob(1, 5), GpuRequests.Unref(5),
            GpuRequests.Submit3D(1, new byte[] { 1, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, GpuRequests.FenceAndRing, 7, 1),
            GpuRequests.Create2D(9, 64, 64), GpuRequests.SetScanout(0, 9), GpuRequests.ResourceFlush(9), GpuRequests.TransferToHost2D(9),
        ];
        foreach (var r in requests)
        {
            yield return [0, 0, 0, .. r];
            yield return [2, 0x35, 0x12, .. r];
        }
    }

    public void Execute(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3) return;
        int pieces = 1 + (input[0] & 3);
        bool hole = (input[0] & 0x80) != 0;
        ushort splitSeed = BinaryPrimitives.ReadUInt16LittleEndian(input[1..]);
        var request = input[3..];

        var ram = new byte[64 << 10];
        var memory = new FakeRingMemory((Base, ram));
        var readable = new List<GuestSegment>();
        ulong cursor = Base;
        int consumed = 0;
        for (int i = 0; i < pieces && consumed < request.Length; i++)
        {
            int left = request.Length - consumed;
            int len = i == pieces - 1 ? left : Math.Min(left, 1 + (splitSeed >> (4 * i) & 0xf) * 3);
            if (cursor + (ulong)len > Base + (ulong)ram.Length - 2048) return; // input too large for the fake RAM
            request.Slice(consumed, len).CopyTo(ram.AsSpan((int)(cursor - Base)));
            readable.Add(new GuestSegment(cursor, (uint)len));
            consumed += len;
            cursor += (ulong)len + 64; // a gap: segments are not contiguous
        }
        if (hole) readable.Insert(Math.Min(1, readable.Count), new GuestSegment(0xdead_0000, 16));
        ulong rsp = Base + (ulong)ram.Length - 1024;
        var chain = new DescriptorChain(0, readable, [new GuestSegment(rsp, 1024)], memory);

        var cmd = _decoder.Decode(chain) ?? throw new FuzzFinding("decoder returned null");
        switch (cmd)
        {
            case Submit3DCommand s:
            {
                try
                {
                    uint size = BinaryPrimitives.ReadUInt32LittleEndian(request[24..]);
                    if (s.Length != size) throw new FuzzFinding($"SUBMIT_3D length {s.Length} != declared size {size}");
                    if (s.Length > Limits.MaxSubmitBytes) throw new FuzzFinding("SUBMIT_3D over the limit accepted");
                    if (32 + s.Length > request.Length) throw new FuzzFinding("SUBMIT_3D payload includes bytes the guest never provided");
                    if (!s.Payload.AsSpan(0, s.Length).SequenceEqual(request.Slice(32, s.Length)))
                        throw new FuzzFinding("SUBMIT_3D payload differs from the guest's bytes");
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(s.Payload);
                }
                break;
            }
            case ResourceCreateBlobCommand b:
                if (b.Entries.Length > Limits.MaxMemEntries) throw new FuzzFinding("too many blob entries accepted");
                if ((uint)b.Entries.Length != BinaryPrimitives.ReadUInt32LittleEndian(request[36..])) throw new FuzzFinding("blob entries != nr_entries");
                break;
            case ResourceAttachBackingCommand a:
                if (a.Entries.Length > Limits.MaxMemEntries) throw new FuzzFinding("too many backing entries accepted");
                break;
            case MalformedCommand m:
                if ((uint)m.Error is < 0x1200 or > 0x1205) throw new FuzzFinding($"malformed answer {m.Error} is not an error type");
                if (string.IsNullOrEmpty(m.Reason)) throw new FuzzFinding("malformed answer without a reason");
                break;
            case CtxCreateCommand c:
                if (c.DebugName.Length > 64 || c.DebugName.Any(ch => ch is < ' ' or > '~')) throw new FuzzFinding("unsafe debug name passed on");
                break;
        }
    }

    public void Dispose() { }
}
