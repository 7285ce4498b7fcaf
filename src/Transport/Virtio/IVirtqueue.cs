namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// One split virtqueue as seen by a device model. Chains are validated against the memory table when
/// popped (a bad chain is logged and skipped by the queue itself). <see cref="Complete"/> may be called
/// from any thread and in any order; the used ring is updated under the queue's lock and the call
/// eventfd is signalled per <see cref="Flush"/> (EVENT_IDX honoured).
/// </summary>
public interface IVirtqueue
{
    int Index { get; }

    /// <summary>Pop the next available chain, or false when the ring is empty (or stopped).</summary>
    bool TryPop(out DescriptorChain chain);

    /// <summary>Put <paramref name="chain"/> on the used ring with <paramref name="writtenBytes"/> written. Does not signal.</summary>
    void Complete(DescriptorChain chain, uint writtenBytes);

    /// <summary>Signal the front-end (call eventfd) if anything was completed since the last flush and EVENT_IDX allows.</summary>
    void Flush();
}

/// <summary>
/// A popped descriptor chain: the device-readable part followed by the device-writable part, each a
/// list of guest-physical segments already checked against the memory table at pop time.
/// </summary>
public sealed class DescriptorChain
{
    public DescriptorChain(ushort head, IReadOnlyList<GuestSegment> readable, IReadOnlyList<GuestSegment> writable, IGuestMemory memory)
    {
        Head = head; Readable = readable; Writable = writable; Memory = memory;
        foreach (var s in readable) ReadableLength += s.Length;
        foreach (var s in writable) WritableLength += s.Length;
    }

    public ushort Head { get; }
    public IReadOnlyList<GuestSegment> Readable { get; }
    public IReadOnlyList<GuestSegment> Writable { get; }
    public IGuestMemory Memory { get; }
    public long ReadableLength { get; }
    public long WritableLength { get; }

    /// <summary>Copy readable bytes starting at <paramref name="offset"/> into <paramref name="destination"/>; returns bytes copied.</summary>
    public int ReadAt(long offset, Span<byte> destination)
    {
        int copied = 0;
        long pos = 0;
        foreach (var seg in Readable)
        {
            if (copied == destination.Length) break;
            long segEnd = pos + seg.Length;
            if (offset + copied < segEnd)
            {
                long within = offset + copied - pos;
                int n = (int)Math.Min(seg.Length - within, destination.Length - copied);
                if (!Memory.TryRead(seg.Address + (ulong)within, destination.Slice(copied, n))) return copied;
                copied += n;
            }
            pos = segEnd;
        }
        return copied;
    }

    /// <summary>Copy <paramref name="source"/> into the writable part from its start; returns bytes written.</summary>
    public int Write(ReadOnlySpan<byte> source)
    {
        int written = 0;
        foreach (var seg in Writable)
        {
            if (written == source.Length) break;
            int n = (int)Math.Min(seg.Length, source.Length - written);
            if (!Memory.TryWrite(seg.Address, source.Slice(written, n))) return written;
            written += n;
        }
        return written;
    }
}

public readonly record struct GuestSegment(ulong Address, uint Length);
