using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>Guest RAM of one memfd region at <see cref="Base"/>, so userptr and GUEST blobs resolve to real fd ranges.</summary>
public sealed class MemfdGuestRam : IGuestMemory, IDisposable
{
    public const ulong Base = 0x10_0000;
    private readonly Memfd _fd;
    private readonly MappedRegion _view;

    public MemfdGuestRam(ulong size = 4UL << 20)
    {
        _fd = Memfd.Create("fuzz-guest-ram", size);
        _view = Mmap.MapShared(_fd, 0, size);
        Size = size;
    }

    public ulong Size { get; }

    private bool Inside(ulong gpa, ulong len) => gpa >= Base && len <= Size && gpa - Base <= Size - len;

    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (!Inside(gpa, (ulong)destination.Length)) return false;
        _view.AsSpan(gpa - Base, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (!Inside(gpa, (ulong)source.Length)) return false;
        source.CopyTo(_view.AsSpan(gpa - Base, source.Length));
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
        _view.Dispose();
        _fd.Dispose();
    }
}
