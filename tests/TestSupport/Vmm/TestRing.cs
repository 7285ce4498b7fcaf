using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>
/// The driver side of one split virtqueue in the test guest's RAM: descriptor table, avail and used rings,
/// its kick and call eventfds, and bookkeeping of chains in flight. Thread-safe for one producer and one
/// consumer (PutChain/Kick from one thread, WaitUsed from one thread).
/// </summary>
public sealed class TestRing : IDisposable
{
    private readonly GuestRam _ram;
    private readonly Lock _lock = new();
    private readonly Stack<ushort> _freeDescriptors = new();
    private readonly Dictionary<ushort, InFlight> _inFlight = new();
    private ushort _availIdx;
    private ushort _lastUsed;
    private long _signals;
    private bool _usedEventOwnedByCaller;

    private sealed record InFlight(ushort[] Descriptors, List<(ulong Gpa, ulong Size)> Allocations, List<GuestSegment> Writable);

    internal TestRing(int index, GuestRam ram, ushort size)
    {
        Index = index;
        _ram = ram;
        Size = size;
        DescTable = ram.Allocator.Alloc((ulong)VringDesc.Size * size, 16);
        AvailRing = ram.Allocator.Alloc(VringAvail.RingOffset + 2UL * size + 2, 2);
        UsedRing = ram.Allocator.Alloc(VringUsed.RingOffset + (ulong)VringUsedElem.Size * size + 2, 4);
        ram.Span(DescTable, VringDesc.Size * size).Clear();
        ram.Span(AvailRing, VringAvail.RingOffset + 2 * size + 2).Clear();
        ram.Span(UsedRing, VringUsed.RingOffset + VringUsedElem.Size * size + 2).Clear();
        for (int i = size - 1; i >= 0; i--) _freeDescriptors.Push((ushort)i);
        Kick = EventFd.Create();
        Call = EventFd.Create();
    }

    public int Index { get; }
    public ushort Size { get; }
    public ulong DescTable { get; }
    public ulong AvailRing { get; }
    public ulong UsedRing { get; }

    /// <summary>The kick eventfd (sent with SET_VRING_KICK).</summary>
    public FdHandle Kick { get; }

    /// <summary>The current call eventfd (sent with SET_VRING_CALL).</summary>
    public FdHandle Call { get; private set; }

    /// <summary>Call signals seen so far (each eventfd read counts its value).</summary>
    public long Signals { get { DrainCall(); return Interlocked.Read(ref _signals); } }

    /// <summary>The driver's avail index (next slot to publish).</summary>
    public ushort AvailIndex { get { lock (_lock) return _availIdx; } }

    /// <summary>The device's used index as published in guest memory.</summary>
    public ushort UsedIndex => _ram.ReadU16Acquire(UsedRing + 2);

    /// <summary>
    /// Put a chain: <paramref name="readable"/> buffers (device reads) then buffers of <paramref name="writableSizes"/>
    /// (device writes), each in its own guest RAM allocation; <paramref name="indirect"/> puts all of them in an
    /// indirect table behind one ring descriptor. Returns the token (head index) WaitUsed reports.
    /// </summary>
    public ushort PutChain(IReadOnlyList<byte[]> readable, IReadOnlyList<uint> writableSizes, bool indirect = false)
    {
        int count = readable.Count + writableSizes.Count;
        if (count == 0) throw new ArgumentException("a chain needs at least one buffer");
        var allocations = new List<(ulong, ulong)>();
        var writable = new List<GuestSegment>();
        var descs = new VringDesc[count];
        int d = 0;
        foreach (var buffer in readable)
        {
            ulong gpa = _ram.Allocator.Alloc((ulong)Math.Max(buffer.Length, 1), 8);
            allocations.Add((gpa, (ulong)Math.Max(buffer.Length, 1)));
            _ram.Write(gpa, buffer);
            descs[d++] = new VringDesc { addr = gpa, len = (uint)buffer.Length };
        }
        foreach (uint size in writableSizes)
        {
            ulong gpa = _ram.Allocator.Alloc(Math.Max(size, 1u), 8);
            allocations.Add((gpa, Math.Max(size, 1u)));
            _ram.Span(gpa, (int)size).Clear();
            descs[d++] = new VringDesc { addr = gpa, len = size, flags = VringConst.VRING_DESC_F_WRITE };
            writable.Add(new GuestSegment(gpa, size));
        }

        lock (_lock)
        {
            ushort head;
            ushort[] used;
            if (indirect)
            {
                ulong table = _ram.Allocator.Alloc((ulong)(VringDesc.Size * count), 16);
                allocations.Add((table, (ulong)(VringDesc.Size * count)));
                for (int i = 0; i < count; i++)
                {
                    var desc = descs[i];
                    if (i + 1 < count) { desc.flags |= VringConst.VRING_DESC_F_NEXT; desc.next = (ushort)(i + 1); }
                    _ram.Write(table + (ulong)(VringDesc.Size * i), in desc);
                }
                head = PopDescriptorLocked();
                WriteDescriptor(head, table, (uint)(VringDesc.Size * count), VringConst.VRING_DESC_F_INDIRECT, 0);
                used = [head];
            }
            else
            {
                if (_freeDescriptors.Count < count) throw new InvalidOperationException($"ring {Index} has {_freeDescriptors.Count} free descriptors, chain needs {count}");
                used = new ushort[count];
                for (int i = 0; i < count; i++) used[i] = PopDescriptorLocked();
                for (int i = 0; i < count; i++)
                {
                    var desc = descs[i];
                    if (i + 1 < count) { desc.flags |= VringConst.VRING_DESC_F_NEXT; desc.next = used[i + 1]; }
                    _ram.Write(DescTable + (ulong)(VringDesc.Size * used[i]), in desc);
                }
                head = used[0];
            }
            _inFlight[head] = new InFlight(used, allocations, writable);
            PublishLocked(head);
            return head;
        }
    }

    /// <summary>Notify the device (write the kick eventfd).</summary>
    public void KickDevice() => EventFd.Signal(Kick);

    /// <summary>Take the next used chain if there is one.</summary>
    public UsedChain? TryTakeUsed()
    {
        lock (_lock)
        {
            if (_ram.ReadU16Acquire(UsedRing + 2) == _lastUsed) return null;
            var elem = _ram.Read<VringUsedElem>(UsedRing + VringUsed.RingOffset + (ulong)VringUsedElem.Size * (ulong)(_lastUsed & (Size - 1)));
            _lastUsed++;
            ushort head = (ushort)elem.id;
            if (!_inFlight.Remove(head, out var chain)) return new UsedChain(head, elem.len, []);
            var data = new byte[Math.Min(elem.len, (uint)chain.Writable.Sum(s => s.Length))];
            int copied = 0;
            foreach (var seg in chain.Writable)
            {
                if (copied == data.Length) break;
                int n = Math.Min((int)seg.Length, data.Length - copied);
                _ram.Span(seg.Address, n).CopyTo(data.AsSpan(copied));
                copied += n;
            }
            foreach (ushort desc in chain.Descriptors) _freeDescriptors.Push(desc);
            foreach (var (gpa, size) in chain.Allocations) _ram.Allocator.Free(gpa, size);
            return new UsedChain(head, elem.len, data);
        }
    }

    /// <summary>
    /// Wait for the next used chain (call eventfd or used idx), up to <paramref name="timeout"/>. Unless a test
    /// steers used_event itself (<see cref="SetUsedEvent"/>), re-arms the EVENT_IDX interrupt before blocking.
    /// </summary>
    public UsedChain WaitUsed(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            DrainCall();
            if (TryTakeUsed() is { } used) return Rearmed(used);
            bool armed = TryArmUsedEvent();
            // Armed: the used idx may have moved before the device could see used_event, so look once more.
            if (armed && TryTakeUsed() is { } raced) return Rearmed(raced);
            long left = deadline - Environment.TickCount64;
            if (left <= 0) throw new TimeoutException($"ring {Index}: nothing used within {timeout.TotalMilliseconds} ms");
            // Armed, the call eventfd wakes us; the bounded poll only covers a device that still suppresses it.
            // A test that owns used_event may have suppressed the call on purpose: look at the used idx often.
            Poller.WaitReadable(Call.Fd, (int)Math.Min(left, armed ? 200 : 10));
        }
    }

    // As a driver re-enables callbacks after consuming: the next completion then signals even if it lands
    // before the next WaitUsed blocks.
    private UsedChain Rearmed(UsedChain used)
    {
        TryArmUsedEvent();
        return used;
    }

    /// <summary>
    /// EVENT_IDX: ask for a call only once the used idx passes <paramref name="usedEvent"/>. From then on this
    /// ring leaves used_event to the caller (WaitUsed stops re-arming it).
    /// </summary>
    public void SetUsedEvent(ushort usedEvent)
    {
        Volatile.Write(ref _usedEventOwnedByCaller, true);
        WriteUsedEvent(usedEvent);
    }

    /// <summary>
    /// Linux virtqueue_enable_cb: publish used_event = the used index consumed so far (a call is wanted for the
    /// next completion), then a full fence so the device's later used-idx store cannot be read as older than it.
    /// Without EVENT_IDX the slot is unused by the device, so writing it is harmless.
    /// </summary>
    private bool TryArmUsedEvent()
    {
        if (Volatile.Read(ref _usedEventOwnedByCaller)) return false;
        ushort consumed;
        lock (_lock) consumed = _lastUsed;
        WriteUsedEvent(consumed);
        Interlocked.MemoryBarrier(); // store used_event before loading used idx (virtio_mb)
        return true;
    }

    /// <summary>EVENT_IDX: the driver's used_event as published in the avail ring.</summary>
    public ushort UsedEvent => _ram.ReadU16Acquire(AvailRing + VringAvail.RingOffset + 2UL * Size);

    private void WriteUsedEvent(ushort usedEvent) => _ram.WriteU16Release(AvailRing + VringAvail.RingOffset + 2UL * Size, usedEvent);

    /// <summary>EVENT_IDX: the device's avail_event (kick wanted once avail idx passes it).</summary>
    public ushort AvailEvent => _ram.ReadU16Acquire(UsedRing + VringUsed.RingOffset + (ulong)VringUsedElem.Size * Size);

    /// <summary>Set avail flags (VRING_AVAIL_F_NO_INTERRUPT = 1 suppresses calls without EVENT_IDX).</summary>
    public void SetAvailFlags(ushort flags) => _ram.WriteU16Release(AvailRing, flags);

    /// <summary>Hostile tests: write descriptor <paramref name="index"/> directly.</summary>
    public void WriteDescriptor(ushort index, ulong addr, uint len, ushort flags, ushort next)
    {
        var desc = new VringDesc { addr = addr, len = len, flags = flags, next = next };
        _ram.Write(DescTable + (ulong)(VringDesc.Size * index), in desc);
    }

    /// <summary>Hostile tests: take a free descriptor index for <see cref="WriteDescriptor"/>.</summary>
    public ushort TakeDescriptor()
    {
        lock (_lock) return PopDescriptorLocked();
    }

    private ushort PopDescriptorLocked() =>
        _freeDescriptors.Count > 0 ? _freeDescriptors.Pop() : throw new InvalidOperationException($"ring {Index} has no free descriptor");

    /// <summary>Hostile tests: publish <paramref name="head"/> on the avail ring with no bookkeeping.</summary>
    public void PublishRaw(ushort head)
    {
        lock (_lock) PublishLocked(head);
    }

    /// <summary>Hostile tests: set the avail idx to anything.</summary>
    public void SetAvailIndexRaw(ushort idx)
    {
        lock (_lock)
        {
            _availIdx = idx;
            _ram.WriteU16Release(AvailRing + 2, idx);
        }
    }

    /// <summary>Replace the call eventfd (QEMU does after enable); returns the new one to send.</summary>
    internal FdHandle RenewCall()
    {
        var old = Call;
        Call = EventFd.Create();
        old.Dispose();
        return Call;
    }

    private void PublishLocked(ushort head)
    {
        _ram.Write(AvailRing + VringAvail.RingOffset + 2UL * (ulong)(_availIdx & (Size - 1)), head);
        _availIdx++;
        // Release: the ring entry (and the descriptors before it) are visible before the index.
        _ram.WriteU16Release(AvailRing + 2, _availIdx);
    }

    private void DrainCall() => Interlocked.Add(ref _signals, (long)EventFd.Drain(Call));

    public void Dispose()
    {
        Kick.Dispose();
        Call.Dispose();
    }
}
