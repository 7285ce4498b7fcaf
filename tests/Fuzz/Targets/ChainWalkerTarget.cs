using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.TestSupport.Memory;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>
/// The split-ring chain walker over a random descriptor table in fake guest memory. Input: u16 queue size, u16 head,
/// u8 flags (bit 0: indirect allowed), then the bytes of two adjacent guest regions ([0, 4 KiB) holding the table at
/// 0, and [4 KiB, 8 KiB)) — adjacent so a buffer crossing them must still be refused. Invariants: never throws; on
/// success every segment is non-empty and inside one region, there are no more segments than descriptors that could
/// be visited, the total fits in 4 GiB, and a second walk gives the same answer.
/// </summary>
public sealed class ChainWalkerTarget : IFuzzTarget
{
    private const int RegionSize = 4096;
    private readonly List<GuestSegment> _r1 = new(), _w1 = new(), _r2 = new(), _w2 = new();

    public string Name => "chain-walker";
    public int MaxInputLength => 5 + 2 * RegionSize;

    public IEnumerable<byte[]> Seeds()
    {
        // head 0 → 1 → 2: two readable buffers then a writable one (the shape of a virtio-gpu request).
        yield return Build(64, 0, 1, [(0x1000, 24, VringConst.VRING_DESC_F_NEXT, 1), (0x1100, 40, VringConst.VRING_DESC_F_NEXT, 2), (0x1800, 24, VringConst.VRING_DESC_F_WRITE, 0)]);
        // A loop: 0 → 1 → 0.
        yield return Build(64, 0, 1, [(0x1000, 8, VringConst.VRING_DESC_F_NEXT, 1), (0x1000, 8, VringConst.VRING_DESC_F_NEXT, 0)]);
        // An indirect table of 2 at 0x1000.
        var indirect = Build(8, 0, 1, [(0x1000, 32, VringConst.VRING_DESC_F_INDIRECT, 0)]);
        WriteDesc(indirect.AsSpan(5 + 0x1000), 0, 0x1200, 24, VringConst.VRING_DESC_F_NEXT, 1);
        WriteDesc(indirect.AsSpan(5 + 0x1000), 1, 0x1300, 24, VringConst.VRING_DESC_F_WRITE, 0);
        yield return indirect;
        // A buffer straddling the two regions.
        yield return Build(4, 0, 0, [(0xff0, 32, 0, 0)]);
    }

    private static byte[] Build(ushort size, ushort head, byte flags, (ulong Addr, uint Len, ushort Flags, ushort Next)[] descs)
    {
        var input = new byte[5 + 2 * RegionSize];
        BinaryPrimitives.WriteUInt16LittleEndian(input, size);
        BinaryPrimitives.WriteUInt16LittleEndian(input.AsSpan(2), head);
        input[4] = flags;
        for (int i = 0; i < descs.Length; i++) WriteDesc(input.AsSpan(5), i, descs[i].Addr, descs[i].Len, descs[i].Flags, descs[i].Next);
        return input;
    }

    private static void WriteDesc(Span<byte> table, int index, ulong addr, uint len, ushort flags, ushort next)
    {
        var d = new VringDesc { addr = addr, len = len, flags = flags, next = next };
        MemoryMarshal.Write(table[(index * VringDesc.Size)..], in d);
    }

    public void Execute(ReadOnlySpan<byte> input)
    {
        if (input.Length < 5) return;
        ushort size = BinaryPrimitives.ReadUInt16LittleEndian(input);
        ushort head = BinaryPrimitives.ReadUInt16LittleEndian(input[2..]);
        bool indirect = (input[4] & 1) != 0;
        var low = new byte[RegionSize];
        var high = new byte[RegionSize];
        var rest = input[5..];
        rest[..Math.Min(rest.Length, RegionSize)].CopyTo(low);
        if (rest.Length > RegionSize) rest[RegionSize..Math.Min(rest.Length, 2 * RegionSize)].CopyTo(high);
        var memory = new FakeRingMemory((0, low), (RegionSize, high));

        bool ok = ChainWalker.TryWalk(memory, 0, size, head, indirect, _r1, _w1, out var error);
        bool again = ChainWalker.TryWalk(memory, 0, size, head, indirect, _r2, _w2, out var error2);
        if (ok != again || error != error2 || !_r1.SequenceEqual(_r2) || !_w1.SequenceEqual(_w2))
            throw new FuzzFinding("chain walk is not deterministic");
        if (!ok)
        {
            if (string.IsNullOrEmpty(error)) throw new FuzzFinding("failed walk without a reason");
            return;
        }
        int limit = Math.Max((int)size, ChainWalker.MaxIndirectDescriptors) + 1;
        if (_r1.Count + _w1.Count > limit) throw new FuzzFinding($"{_r1.Count + _w1.Count} segments from a table of {size}");
        ulong total = 0;
        foreach (var s in _r1.Concat(_w1))
        {
            if (s.Length == 0) throw new FuzzFinding("empty segment returned");
            if (!memory.Contains(s.Address, s.Length)) throw new FuzzFinding($"segment [0x{s.Address:x}, +{s.Length}) outside guest memory");
            total += s.Length;
        }
        if (total > uint.MaxValue) throw new FuzzFinding("chain longer than 4 GiB accepted");
    }

    public void Dispose() { }
}
