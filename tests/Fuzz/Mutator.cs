using System.Buffers.Binary;

namespace VhsaKmt.Fuzz;

/// <summary>
/// Mutates inputs the way libFuzzer's default mutators do, without coverage feedback: bit flips, byte sets,
/// "interesting" little-endian integers (boundaries, sizes, -1) at 4-aligned and random offsets, arithmetic on
/// u32 fields, block copy/erase/insert, crossover with another corpus entry, truncation and extension. Several
/// mutations are stacked per input. Deterministic for a given <see cref="Random"/>.
/// </summary>
public sealed class Mutator(Random rng, int maxLength)
{
    private static readonly uint[] Interesting =
    [
        0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 63, 64, 100, 127, 128, 255, 256, 511, 512, 1000, 1024, 4095, 4096, 4097,
        0x7fff, 0x8000, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_fffe, 0xffff_ffff,
    ];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        int rounds = 1 + rng.Next(4);
        for (int r = 0; r < rounds; r++) MutateOnce(data, corpus);
        if (data.Count > maxLength) data.RemoveRange(maxLength, data.Count - maxLength);
        return data.ToArray();
    }

    private void MutateOnce(List<byte> d, IReadOnlyList<byte[]> corpus)
    {
        if (d.Count == 0) { d.AddRange(RandomBytes(1 + rng.Next(32))); return; }
        switch (rng.Next(11))
        {
            case 0: d[rng.Next(d.Count)] ^= (byte)(1 << rng.Next(8)); break;
            case 1: d[rng.Next(d.Count)] = (byte)rng.Next(256); break;
            case 2: PutU32(d, AlignedOffset(d), Interesting[rng.Next(Interesting.Length)]); break;
            case 3: PutU32(d, rng.Next(d.Count), Interesting[rng.Next(Interesting.Length)]); break;
            case 4: AddU32(d, AlignedOffset(d), rng.Next(-16, 17)); break;
            case 5: // erase a block
            {
                int at = rng.Next(d.Count);
                d.RemoveRange(at, Math.Min(d.Count - at, 1 + rng.Next(16)));
                break;
            }
            case 6: // insert random bytes
                d.InsertRange(rng.Next(d.Count + 1), RandomBytes(1 + rng.Next(16)));
                break;
            case 7: // duplicate a block (repeats a ccmd / message)
            {
                int at = rng.Next(d.Count);
                int len = Math.Min(d.Count - at, 1 + rng.Next(128));
                d.InsertRange(rng.Next(d.Count + 1), d.GetRange(at, len));
                break;
            }
            case 8: // crossover: splice in part of another input
            {
                var other = corpus[rng.Next(corpus.Count)];
                if (other.Length == 0) break;
                int at = rng.Next(other.Length);
                int len = Math.Min(other.Length - at, 1 + rng.Next(256));
                d.InsertRange(rng.Next(d.Count + 1), other.AsSpan(at, len).ToArray());
                break;
            }
            case 9: { int at = rng.Next(d.Count); d.RemoveRange(at, d.Count - at); break; } // truncate
            default: // append the start again (a second copy of the first request)
                d.AddRange(d.GetRange(0, Math.Min(d.Count, 1 + rng.Next(128))));
                break;
        }
    }

    private int AlignedOffset(List<byte> d) => d.Count < 4 ? 0 : rng.Next(d.Count / 4) * 4;

    private static void PutU32(List<byte> d, int at, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        for (int i = 0; i < 4 && at + i < d.Count; i++) d[at + i] = b[i];
    }

    private static void AddU32(List<byte> d, int at, int delta)
    {
        if (at + 4 > d.Count) return;
        uint v = (uint)(d[at] | d[at + 1] << 8 | d[at + 2] << 16 | d[at + 3] << 24);
        PutU32(d, at, unchecked(v + (uint)delta));
    }

    private byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }
}
