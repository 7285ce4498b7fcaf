namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// Guest-physical memory as shared by the front-end (SET_MEM_TABLE / ADD_MEM_REG). Every access is
/// bounds-checked against the table; a range that is not wholly inside one region is an error,
/// never a crash. Thread-safe: the table can change while other threads read.
/// </summary>
public interface IGuestMemory
{
    /// <summary>Copy <paramref name="destination"/>.Length bytes from guest-physical <paramref name="gpa"/>. False if out of range.</summary>
    bool TryRead(ulong gpa, Span<byte> destination);

    /// <summary>Copy <paramref name="source"/> to guest-physical <paramref name="gpa"/>. False if out of range.</summary>
    bool TryWrite(ulong gpa, ReadOnlySpan<byte> source);

    /// <summary>
    /// Resolve [gpa, gpa+length) to the front-end's memory fd and offset (for re-mapping guest pages,
    /// e.g. userptr at a mirrored address). The returned handle is a dup the caller owns. False if the
    /// range is not inside one region.
    /// </summary>
    bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range);
}

/// <summary>A range of a front-end memory fd; <see cref="Fd"/> is owned by the receiver.</summary>
public sealed record GuestFdRange(Microsoft.Win32.SafeHandles.SafeFileHandle Fd, ulong FdOffset, ulong Length);
