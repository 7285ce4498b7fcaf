using System.Runtime.InteropServices;

namespace VhsaKmt.Native.Interop;

/// <summary>
/// An owned mapping [Address, +Length). Dispose unmaps it, or, for a mapping placed over a reservation, hands the
/// range back to its owner (which re-reserves it PROT_NONE so nothing else can land there).
/// </summary>
public sealed unsafe class MappedRegion : IDisposable
{
    private readonly Action<ulong, ulong>? _release;
    private int _disposed;

    internal MappedRegion(ulong address, ulong length, Action<ulong, ulong>? release)
    {
        Address = address;
        Length = length;
        _release = release;
        ResourceCounters.MappingCreated();
    }

    public ulong Address { get; }
    public ulong Length { get; }
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Bytes [offset, +length) of the mapping; throws if outside (host bug, not guest input).</summary>
    public Span<byte> AsSpan(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (length < 0 || offset > Length || (ulong)length > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) outside mapping of {Length} bytes");
        return new Span<byte>((void*)(Address + offset), length);
    }

    /// <summary>A naturally aligned 64-bit cell of the mapping, read/written atomically (doorbells, event slots).</summary>
    public ref ulong U64(ulong offset) => ref RefAt<ulong>(offset);

    /// <summary>
    /// A naturally aligned u16/u32/u64 of the mapping, for atomic/volatile access (ring indices, doorbells); throws if
    /// unaligned or outside (host bug, not guest input).
    /// </summary>
    public ref T RefAt<T>(ulong offset) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var size = (ulong)sizeof(T);
        if (offset % size != 0 || Length < size || offset > Length - size)
            throw new ArgumentOutOfRangeException(nameof(offset));
        return ref *(T*)(Address + offset);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_release is not null)
            _release(Address, Length);
        else
            Mmap.Unmap(Address, Length);
        ResourceCounters.MappingReleased();
    }
}
