using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.TestSupport.Memory;

/// <summary>Guest RAM for tests: one memfd region at guest-physical <see cref="Base"/>, mapped here for inspection.</summary>
public sealed class MemfdGuestMemory : IGuestMemory, IDisposable
{
    public const ulong Base = 0x10_0000;
    private readonly Memfd _fd;

    public MemfdGuestMemory(ulong size = 4UL << 20)
    {
        _fd = Memfd.Create("guest-ram", size);
        View = Mmap.MapShared(_fd, 0, size);
        Size = size;
    }

    public ulong Size { get; }
    public MappedRegion View { get; }

    private bool Inside(ulong gpa, ulong len) => gpa >= Base && len <= Size && gpa - Base <= Size - len;

    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (!Inside(gpa, (ulong)destination.Length)) return false;
        View.AsSpan(gpa - Base, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (!Inside(gpa, (ulong)source.Length)) return false;
        source.CopyTo(View.AsSpan(gpa - Base, source.Length));
        return true;
    }

    public bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range)
    {
        range = null!;
        if (!Inside(gpa, length)) return false;
        range = new GuestFdRange(FileDescriptors.Duplicate(_fd), gpa - Base, length);
        return true;
    }

    public void Dispose()
    {
        View.Dispose();
        _fd.Dispose();
    }
}
