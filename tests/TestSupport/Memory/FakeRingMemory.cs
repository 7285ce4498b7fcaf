using System.Buffers.Binary;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.TestSupport.Memory;

/// <summary>Guest memory of fixed regions (managed arrays), for decoder fuzzing and ring unit tests; a range must lie inside one region.</summary>
public sealed class FakeRingMemory(params (ulong Base, byte[] Bytes)[] regions) : IRingMemory
{
    public IReadOnlyList<(ulong Base, byte[] Bytes)> Regions => regions;

    private bool TryLocate(ulong gpa, ulong length, out byte[] bytes, out int offset)
    {
        foreach (var (b, r) in regions) // the array: no enumerator allocated per access (allocation tests)
        {
            if (gpa >= b && gpa - b <= (ulong)r.Length && length <= (ulong)r.Length - (gpa - b))
            {
                bytes = r;
                offset = (int)(gpa - b);
                return length > 0 || gpa - b < (ulong)r.Length;
            }
        }
        bytes = [];
        offset = 0;
        return false;
    }

    public bool Contains(ulong gpa, ulong length) => TryLocate(gpa, length, out _, out _);

    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (!TryLocate(gpa, (ulong)destination.Length, out var r, out int o)) return false;
        r.AsSpan(o, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (!TryLocate(gpa, (ulong)source.Length, out var r, out int o)) return false;
        source.CopyTo(r.AsSpan(o));
        return true;
    }

    public bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range)
    {
        range = null!;
        return false; // no fds behind managed memory
    }

    public bool TryReadU16Acquire(ulong gpa, out ushort value)
    {
        value = 0;
        if (gpa % 2 != 0 || !TryLocate(gpa, 2, out var r, out int o)) return false;
        value = BinaryPrimitives.ReadUInt16LittleEndian(r.AsSpan(o));
        return true;
    }

    public bool TryWriteU16Release(ulong gpa, ushort value)
    {
        if (gpa % 2 != 0 || !TryLocate(gpa, 2, out var r, out int o)) return false;
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(o), value);
        return true;
    }
}
