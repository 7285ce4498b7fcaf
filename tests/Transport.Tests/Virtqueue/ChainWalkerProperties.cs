using System.Runtime.InteropServices;
using FsCheck.Xunit;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>The chain walker over random, mostly hostile descriptor tables in a fake guest memory.</summary>
public sealed class ChainWalkerProperties
{
    private const ulong MemBase = 0x10000;
    private const int MemSize = 0x10000;
    private const ulong IndirectArea = MemBase + 0x8000;

    /// <summary>Guest memory as a byte array that records every read.</summary>
    private sealed class RecordingMemory : IRingMemory
    {
        public readonly byte[] Bytes = new byte[MemSize];
        public readonly List<(ulong Gpa, int Length)> Reads = new();

        public bool Contains(ulong gpa, ulong length) => gpa >= MemBase && gpa - MemBase <= MemSize && length <= MemSize - (gpa - MemBase);

        public bool TryRead(ulong gpa, Span<byte> destination)
        {
            Reads.Add((gpa, destination.Length));
            if (!Contains(gpa, (ulong)destination.Length)) return false;
            Bytes.AsSpan((int)(gpa - MemBase), destination.Length).CopyTo(destination);
            return true;
        }

        public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source) => throw new InvalidOperationException("the walker must not write");
        public bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range) => throw new InvalidOperationException("not used");
        public bool TryReadU16Acquire(ulong gpa, out ushort value) => throw new InvalidOperationException("not used");
        public bool TryWriteU16Release(ulong gpa, ushort value) => throw new InvalidOperationException("the walker must not write");
    }

    private static VringDesc RandomDescriptor(Random r, int tableSize)
    {
        ulong addr = r.Next(6) switch
        {
            0 => (ulong)r.NextInt64(),                                 // anywhere
            1 => MemBase + MemSize - (ulong)r.Next(32),               // straddling the end
            2 => IndirectArea + (ulong)(16 * r.Next(8)),              // an indirect table
            3 => MemBase + (ulong)(16 * r.Next(tableSize)),           // the ring's own table
            _ => MemBase + (ulong)r.Next(MemSize),                    // inside memory
        };
        uint len = r.Next(5) switch
        {
            0 => 0,
            1 => (uint)(16 * r.Next(1, 9)),
            2 => uint.MaxValue - (uint)r.Next(16),
            _ => (uint)r.Next(1, 256),
        };
        return new VringDesc { addr = addr, len = len, flags = (ushort)r.Next(8), next = (ushort)r.Next(tableSize * 2 + 1) };
    }

    [Property(MaxTest = 400)]
    public bool Walker_never_throws_and_reads_only_descriptor_tables(int seed, byte sizeSelector, bool indirectAllowed, ushort headSeed)
    {
        var r = new Random(seed);
        ushort size = (ushort)(1 << (sizeSelector % 8));
        var memory = new RecordingMemory();
        r.NextBytes(memory.Bytes); // garbage everywhere
        var table = new VringDesc[size];
        for (int i = 0; i < size; i++)
        {
            table[i] = RandomDescriptor(r, size);
            MemoryMarshal.Write(memory.Bytes.AsSpan(16 * i), in table[i]);
        }
        for (int i = 0; i < 8; i++)
        {
            var d = RandomDescriptor(r, 8);
            MemoryMarshal.Write(memory.Bytes.AsSpan((int)(IndirectArea - MemBase) + 16 * i), in d);
        }
        ushort head = (ushort)(headSeed % (size + 2)); // sometimes out of range

        var readable = new List<GuestSegment>();
        var writable = new List<GuestSegment>();
        bool ok = ChainWalker.TryWalk(memory, MemBase, size, head, indirectAllowed, readable, writable, out string? error);

        // Every read is one descriptor inside the ring's table or inside a table an INDIRECT descriptor names.
        var allowed = new List<(ulong Start, ulong End)> { (MemBase, MemBase + 16UL * size) };
        foreach (var d in table)
        {
            if ((d.flags & VringConst.VRING_DESC_F_INDIRECT) != 0) allowed.Add((d.addr, d.addr + d.len));
        }
        bool readsOk = memory.Reads.All(read =>
            read.Length == VringDesc.Size && memory.Contains(read.Gpa, 16)
            && allowed.Any(a => read.Gpa >= a.Start && read.Gpa + 16 <= a.End));

        bool resultOk = ok
            ? error is null
              && readable.Concat(writable).All(s => memory.Contains(s.Address, s.Length))
              && readable.Count + writable.Count <= Math.Max((int)size, ChainWalker.MaxIndirectDescriptors)
            : !string.IsNullOrEmpty(error) && readable.Count + writable.Count <= Math.Max((int)size, ChainWalker.MaxIndirectDescriptors);
        return readsOk && resultOk;
    }

    [Property(MaxTest = 100)]
    public bool Well_formed_chains_are_walked_exactly(byte readableCount, byte writableCount)
    {
        int nr = readableCount % 5, nw = writableCount % 5;
        if (nr + nw == 0) return true;
        var memory = new RecordingMemory();
        var expected = new List<GuestSegment>();
        for (int i = 0; i < nr + nw; i++)
        {
            bool write = i >= nr;
            var seg = new GuestSegment(MemBase + 0x4000 + (ulong)(0x100 * i), (uint)(i + 1));
            expected.Add(seg);
            var d = new VringDesc
            {
                addr = seg.Address, len = seg.Length, next = (ushort)(i + 1),
                flags = (ushort)((write ? VringConst.VRING_DESC_F_WRITE : 0) | (i + 1 < nr + nw ? VringConst.VRING_DESC_F_NEXT : 0)),
            };
            MemoryMarshal.Write(memory.Bytes.AsSpan(16 * i), in d);
        }
        var readable = new List<GuestSegment>();
        var writable = new List<GuestSegment>();
        bool ok = ChainWalker.TryWalk(memory, MemBase, 8, 0, true, readable, writable, out _);
        return ok && readable.SequenceEqual(expected.Take(nr)) && writable.SequenceEqual(expected.Skip(nr));
    }
}
