namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// Reads the daemon's memory at a guest-visible VA. The daemon runs in this process and mirrors KFD
/// allocations at the VA the guest uses, so the bytes are at that address here. /proc/self/mem is used
/// instead of a raw pointer so that an unmapped address is an IOException, not a crashed test host.
/// </summary>
public static class KfdMemory
{
    public static byte[] Read(ulong address, int length)
    {
        var buffer = new byte[length];
        using var mem = File.OpenHandle("/proc/self/mem", FileMode.Open, FileAccess.Read);
        var read = RandomAccess.Read(mem, buffer, checked((long)address));
        if (read != length)
            throw new IOException($"read {read} of {length} bytes at 0x{address:x}");
        return buffer;
    }

    /// <summary>The guest client's pattern seed: FNV-1a of its tag (vhsakmt-guest.c seed_of).</summary>
    public static ulong Seed(string tag)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in System.Text.Encoding.ASCII.GetBytes(tag))
            h = unchecked((h ^ b) * 0x100000001b3UL);
        return h;
    }

    /// <summary>Index of the first 8-byte word that differs from the guest's pattern, or -1.</summary>
    public static long FirstMismatch(ReadOnlySpan<byte> bytes, ulong seed)
    {
        for (var i = 0; i + 8 <= bytes.Length; i += 8)
        {
            var expected = unchecked(seed ^ ((ulong)(i / 8) * 0x9E3779B97F4A7C15UL));
            if (BitConverter.ToUInt64(bytes[i..(i + 8)]) != expected)
                return i / 8;
        }
        return -1;
    }
}
