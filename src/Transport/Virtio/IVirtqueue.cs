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

    /// <summary>Chains popped and not yet on the used ring (the queue depth the device is working on). Any thread.</summary>
    int InFlight { get; }
}

/// <summary>
/// A popped descriptor chain: the device-readable part followed by the device-writable part, each a
/// list of guest-physical segments already checked against the memory table at pop time.
/// <para>A queue reuses one chain object per head (a head is popped again only after it was completed), so
/// steady-state pops allocate nothing: hold a chain only until it is completed.</para>
/// </summary>
public sealed class DescriptorChain
{
    private GuestSegment[] _readable;
    private GuestSegment[] _writable;
    private int _readableCount;
    private int _writableCount;
    private InFlightCounter? _counter;

    public DescriptorChain(ushort head, IReadOnlyList<GuestSegment> readable, IReadOnlyList<GuestSegment> writable, IGuestMemory memory)
    {
        Memory = memory;
        _readable = readable.ToArray();
        _writable = writable.ToArray();
        _readableCount = _readable.Length;
        _writableCount = _writable.Length;
        Head = head;
        ReadableLength = Sum(_readable);
        WritableLength = Sum(_writable);
    }

    /// <summary>An empty chain a queue refills with <see cref="Refill"/> each time its head is popped.</summary>
    internal DescriptorChain(IGuestMemory memory)
    {
        Memory = memory;
        _readable = new GuestSegment[4];
        _writable = new GuestSegment[4];
    }

    internal void Refill(ushort head, List<GuestSegment> readable, List<GuestSegment> writable)
    {
        Head = head;
        _counter = null;
        _readableCount = CopyInto(ref _readable, readable);
        _writableCount = CopyInto(ref _writable, writable);
        ReadableLength = Sum(Readable);
        WritableLength = Sum(Writable);
    }

    private static int CopyInto(ref GuestSegment[] target, List<GuestSegment> source)
    {
        if (target.Length < source.Count) target = new GuestSegment[Math.Max(source.Count, target.Length * 2)];
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(source).CopyTo(target);
        return source.Count;
    }

    private static long Sum(ReadOnlySpan<GuestSegment> segments)
    {
        long total = 0;
        foreach (var s in segments) total += s.Length;
        return total;
    }

    public ushort Head { get; private set; }
    public ReadOnlySpan<GuestSegment> Readable => _readable.AsSpan(0, _readableCount);
    public ReadOnlySpan<GuestSegment> Writable => _writable.AsSpan(0, _writableCount);
    public IGuestMemory Memory { get; }
    public long ReadableLength { get; private set; }
    public long WritableLength { get; private set; }

    /// <summary>
    /// Count this chain in <paramref name="counter"/> until the queue puts it on the used ring (the device model's
    /// view of what is still outstanding, e.g. per guest context). One counter per chain.
    /// </summary>
    public void TrackIn(InFlightCounter counter)
    {
        if (_counter is not null) throw new InvalidOperationException($"chain {Head} is already tracked");
        _counter = counter;
        counter.Increment();
    }

    /// <summary>
    /// For <see cref="IVirtqueue"/> implementations: take the chain's counter before publishing it on the used ring and
    /// <see cref="InFlightCounter.Decrement"/> it after (once published, the head may be popped, and this object
    /// refilled, again at once).
    /// </summary>
    public InFlightCounter? DetachCounter() => Interlocked.Exchange(ref _counter, null);

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

/// <summary>Chains handed on and not yet on the used ring (thread-safe; see <see cref="DescriptorChain.TrackIn"/>).</summary>
public sealed class InFlightCounter
{
    private int _count;
    public int Count => Volatile.Read(ref _count);
    internal void Increment() => Interlocked.Increment(ref _count);
    /// <summary>By the queue, once the chain is on the used ring (see <see cref="DescriptorChain.DetachCounter"/>).</summary>
    public void Decrement() => Interlocked.Decrement(ref _count);
}

public readonly record struct GuestSegment(ulong Address, uint Length);
