using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Bench.Guest;

/// <summary>
/// A zero-allocation driver for the control virtqueue of one <see cref="TestVmm"/>: pre-built chains are
/// re-posted by writing one avail entry; kicks and calls honour EVENT_IDX like the Linux driver
/// (vring_need_event); completions are read straight from the used ring. One thread per queue.
/// TestVmm's own PutChain/WaitUsed must not be used on the same ring afterwards.
/// </summary>
public sealed unsafe class ControlQueue
{
    private readonly TestRing _ring;
    private readonly GuestRam _ram;
    private readonly bool _eventIdx;
    private readonly ushort _size;
    private readonly VringDesc* _desc;
    private readonly ushort* _availIdx;
    private readonly ushort* _availRing;
    private readonly ushort* _usedEvent;
    private readonly ushort* _usedFlags;
    private readonly ushort* _usedIdx;
    private readonly VringUsedElem* _usedRing;
    private readonly ushort* _availEvent;
    private readonly ChainSlot?[] _byHead;
    private ushort _availShadow;
    private ushort _kickedAt;
    private ushort _lastUsed;

    public ControlQueue(TestVmm vmm, int queue)
    {
        _ring = vmm.Ring(queue);
        _ram = vmm.Ram;
        _size = _ring.Size;
        _eventIdx = (vmm.AckedFeatures & (1UL << VringConst.VIRTIO_RING_F_EVENT_IDX)) != 0;
        _desc = (VringDesc*)Ptr(_ring.DescTable);
        byte* avail = Ptr(_ring.AvailRing);
        _availIdx = (ushort*)(avail + 2);
        _availRing = (ushort*)(avail + VringAvail.RingOffset);
        _usedEvent = (ushort*)(avail + VringAvail.RingOffset + 2 * _size);
        byte* used = Ptr(_ring.UsedRing);
        _usedFlags = (ushort*)used;
        _usedIdx = (ushort*)(used + 2);
        _usedRing = (VringUsedElem*)(used + VringUsed.RingOffset);
        _availEvent = (ushort*)(used + VringUsed.RingOffset + VringUsedElem.Size * _size);
        _availShadow = _ring.AvailIndex;
        _kickedAt = _availShadow;
        _lastUsed = Volatile.Read(ref *_usedIdx);
        _byHead = new ChainSlot?[_size];
        CallFd = _ring.Call.Fd;
    }

    public int CallFd { get; }

    /// <summary>VIRTIO_RING_F_EVENT_IDX was negotiated (kick/call suppression by index).</summary>
    public bool EventIdx => _eventIdx;

    public int Kicks { get; private set; }

    private byte* Ptr(ulong gpa) => (byte*)_ram.UserAddress(gpa);

    /// <summary>Take two descriptors and allocate request/response buffers for a reusable chain.</summary>
    public ChainSlot NewSlot(int requestCapacity, int responseCapacity)
    {
        ushort head = _ring.TakeDescriptor(), tail = _ring.TakeDescriptor();
        ulong req = _ram.Allocator.Alloc((ulong)requestCapacity, 64);
        ulong rsp = _ram.Allocator.Alloc((ulong)responseCapacity, 64);
        _desc[head] = new VringDesc { addr = req, len = 0, flags = VringConst.VRING_DESC_F_NEXT, next = tail };
        _desc[tail] = new VringDesc { addr = rsp, len = (uint)responseCapacity, flags = VringConst.VRING_DESC_F_WRITE };
        var slot = new ChainSlot(head, tail, req, Ptr(req), requestCapacity, rsp, Ptr(rsp), responseCapacity);
        _byHead[head] = slot;
        return slot;
    }

    /// <summary>Publish <paramref name="slot"/> with a request of <paramref name="length"/> bytes (no kick yet).</summary>
    public void Post(ChainSlot slot, int length)
    {
        _desc[slot.Head].len = (uint)length;
        _availRing[_availShadow & (_size - 1)] = slot.Head;
        _availShadow++;
        slot.InFlight = true;
        // Release: descriptor and ring entry are visible before the index.
        Volatile.Write(ref *_availIdx, _availShadow);
    }

    /// <summary>Kick the device unless it asked not to be (EVENT_IDX avail_event, or NO_NOTIFY).</summary>
    public void KickIfNeeded()
    {
        ushort newIdx = _availShadow, oldIdx = _kickedAt;
        if (newIdx == oldIdx) return;
        _kickedAt = newIdx;
        // Full barrier: our avail idx store must be ordered before reading the device's suppression state.
        Interlocked.MemoryBarrier();
        bool need = _eventIdx
            ? (ushort)(newIdx - Volatile.Read(ref *_availEvent) - 1) < (ushort)(newIdx - oldIdx)
            : (Volatile.Read(ref *_usedFlags) & VringConst.VRING_USED_F_NO_NOTIFY) == 0;
        if (!need) return;
        Kicks++;
        EventFd.Signal(_ring.Kick);
    }

    /// <summary>Take the next completed chain, if any.</summary>
    public ChainSlot? TryTakeUsed(out uint writtenLength)
    {
        writtenLength = 0;
        if (Volatile.Read(ref *_usedIdx) == _lastUsed) return null;
        var elem = _usedRing[_lastUsed & (_size - 1)];
        _lastUsed++;
        var slot = (uint)elem.id < (uint)_byHead.Length ? _byHead[elem.id] : null;
        if (slot is null) throw new InvalidDataException($"device returned unknown head {elem.id}");
        slot.InFlight = false;
        writtenLength = elem.len;
        return slot;
    }

    /// <summary>Ask for a call on the next used entry, then sleep on the call eventfd unless one is already there.</summary>
    public void WaitForCall(int timeoutMs)
    {
        if (_eventIdx) Volatile.Write(ref *_usedEvent, _lastUsed);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref *_usedIdx) != _lastUsed) return;
        if (Poller.WaitReadable(CallFd, timeoutMs)) EventFd.Drain(_ring.Call);
    }

    /// <summary>Consume a pending call signal without waiting (spin mode keeps the counter from growing).</summary>
    public void DrainCall() => EventFd.Drain(_ring.Call);

    /// <summary>Post + kick + wait for this slot (setup path; other completions are not expected).</summary>
    public uint RoundTrip(ChainSlot slot, int length, TimeSpan timeout)
    {
        Post(slot, length);
        KickIfNeeded();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (TryTakeUsed(out uint len) is { } done)
            {
                if (done != slot) throw new InvalidOperationException($"unexpected completion of head {done.Head}");
                return len;
            }
            long left = deadline - Environment.TickCount64;
            if (left <= 0) throw new TimeoutException($"no completion within {timeout.TotalMilliseconds} ms");
            WaitForCall((int)Math.Min(left, 100));
        }
    }
}
