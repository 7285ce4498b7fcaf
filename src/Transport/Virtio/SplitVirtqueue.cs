using System.Runtime.InteropServices;
using Serilog;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.Virtio;

/// <summary>Where a split ring lives in guest-physical memory, and its size (a power of two ≤ 32768).</summary>
public readonly record struct VringLayout(ushort Size, ulong DescTable, ulong AvailRing, ulong UsedRing)
{
    public ulong AvailIdx => AvailRing + 2;
    public ulong AvailEntry(ushort slot) => AvailRing + VringAvail.RingOffset + 2UL * slot;
    /// <summary>used_event, written by the driver after avail.ring[] (EVENT_IDX).</summary>
    public ulong UsedEvent => AvailRing + VringAvail.RingOffset + 2UL * Size;
    /// <summary>used->flags (VRING_USED_F_NO_NOTIFY), written by the device.</summary>
    public ulong UsedFlags => UsedRing;
    public ulong UsedIdx => UsedRing + 2;
    public ulong UsedEntry(ushort slot) => UsedRing + VringUsed.RingOffset + (ulong)VringUsedElem.Size * slot;
    /// <summary>avail_event, written by the device after used.ring[] (EVENT_IDX).</summary>
    public ulong AvailEvent => UsedRing + VringUsed.RingOffset + (ulong)VringUsedElem.Size * Size;

    public ulong DescBytes => (ulong)VringDesc.Size * Size;
    public ulong AvailBytes => VringAvail.RingOffset + 2UL * Size + 2;
    public ulong UsedBytes => VringUsed.RingOffset + (ulong)VringUsedElem.Size * Size + 2;
}

/// <summary>
/// A split virtqueue served from guest memory (virtio 1.x §2.7). Pops validate each chain with
/// <see cref="ChainWalker"/>; a bad chain is logged and retired with 0 bytes so the queue keeps going.
/// The used ring is written under a lock with release ordering (element before index); <see cref="Flush"/>
/// signals the call eventfd at most once per batch, honouring EVENT_IDX or VRING_AVAIL_F_NO_INTERRUPT.
/// </summary>
public sealed class SplitVirtqueue : IVirtqueue
{
    private readonly IRingMemory _memory;
    private readonly VringLayout _layout;
    private readonly bool _eventIdx;
    private readonly bool _indirect;
    private readonly ILogger _log;
    private readonly Lock _popLock = new();
    private readonly Lock _usedLock = new();
    private readonly List<GuestSegment> _readable = new(8);
    private readonly List<GuestSegment> _writable = new(8);

    // 1 while a popped head is with the device model: catches a double completion (host bug) and a driver
    // re-offering a head that is still in flight (guest bug) before either corrupts the used ring.
    private readonly int[] _inFlight;
    // One reusable chain per head: a head is popped again only after its completion (no allocation per pop).
    private readonly DescriptorChain?[] _chains;
    private ushort _lastAvail;
    private int _inFlightCount;
    private ushort _usedIdx;
    private ushort _signalledUsed;
    private bool _completedSinceFlush;
    private bool _stopped;
    // Between SuppressKicks and EnableKicksAndCheck: TryPop keeps kicks off when it drains the ring.
    private bool _kicksSuppressed;
    private bool _broken;
    private FdHandle? _call;

    public SplitVirtqueue(int index, IRingMemory memory, VringLayout layout, ushort lastAvail, bool eventIdx, bool indirect, FdHandle? call, ILogger log)
    {
        if (layout.Size == 0 || (layout.Size & (layout.Size - 1)) != 0) throw new ArgumentException($"queue size {layout.Size} not a power of two", nameof(layout));
        Index = index;
        _memory = memory;
        _layout = layout;
        _lastAvail = lastAvail;
        _inFlight = new int[layout.Size];
        _chains = new DescriptorChain?[layout.Size];
        _eventIdx = eventIdx;
        _indirect = indirect;
        _call = call;
        _log = log.ForContext("Queue", index);
        // The device's used idx continues from the ring as the driver left it (a restarted ring).
        _usedIdx = memory.TryReadU16Acquire(layout.UsedIdx, out ushort used) ? used : lastAvail;
        _signalledUsed = _usedIdx;
    }

    public int Index { get; }

    public VringLayout Layout => _layout;

    /// <summary>Next avail index this queue will consume.</summary>
    public ushort LastAvailIndex { get { lock (_popLock) return _lastAvail; } }

    public int InFlight => Volatile.Read(ref _inFlightCount);

    /// <summary>Signals delivered on the call eventfd (for tests and metrics).</summary>
    public long SignalCount => Interlocked.Read(ref _signalCount);
    private long _signalCount;

    /// <summary>Chains skipped as malformed (for tests and metrics).</summary>
    public long BadChainCount => Interlocked.Read(ref _badChains);
    private long _badChains;

    public bool TryPop(out DescriptorChain chain)
    {
        lock (_popLock)
        {
            while (!_stopped && !_broken)
            {
                if (!TryReadAvailIdx(out ushort availIdx)) { chain = null!; return false; }
                if (availIdx == _lastAvail)
                {
                    if (!_eventIdx) { chain = null!; return false; }
                    // Ask for a kick on the next buffer, then look again: the driver may have added one
                    // between our read and the avail_event write (virtio §2.7.10). While the IO thread polls,
                    // keep kicks off instead (last_avail - 1 is never crossed); its EnableKicksAndCheck re-arms.
                    _memory.TryWriteU16Release(_layout.AvailEvent, _kicksSuppressed ? (ushort)(_lastAvail - 1) : _lastAvail);
                    Interlocked.MemoryBarrier();
                    if (!TryReadAvailIdx(out availIdx) || availIdx == _lastAvail) { chain = null!; return false; }
                }
                if ((ushort)(availIdx - _lastAvail) > _layout.Size)
                {
                    _broken = true;
                    _log.Error("Avail idx {AvailIdx} is {Ahead} ahead of last avail {LastAvail} on a ring of {Size}: queue stopped",
                        availIdx, (ushort)(availIdx - _lastAvail), _lastAvail, _layout.Size);
                    break;
                }
                ushort slot = (ushort)(_lastAvail & (_layout.Size - 1));
                if (!_memory.TryReadU16Acquire(_layout.AvailEntry(slot), out ushort head))
                {
                    _broken = true;
                    _log.Error("Avail ring entry {Slot} unreadable: queue stopped", slot);
                    break;
                }
                _lastAvail++;
                if (head < _layout.Size && Volatile.Read(ref _inFlight[head]) != 0)
                {
                    Interlocked.Increment(ref _badChains);
                    _log.Warning("Driver offered head {Head} again while it is still in flight; ignored", head);
                    continue;
                }
                if (ChainWalker.TryWalk(_memory, _layout.DescTable, _layout.Size, head, _indirect, _readable, _writable, out string? error))
                {
                    Volatile.Write(ref _inFlight[head], 1);
                    Interlocked.Increment(ref _inFlightCount);
                    chain = _chains[head] ??= new DescriptorChain(_memory);
                    chain.Refill(head, _readable, _writable);
                    return true;
                }
                Interlocked.Increment(ref _badChains);
                _log.Warning("Bad descriptor chain at head {Head}: {Reason}; retired with 0 bytes", head, error);
                CompleteHead(head, 0);
            }
            chain = null!;
            return false;
        }
    }

    /// <summary>True when the driver has made buffers available that were not popped yet (adaptive polling).</summary>
    public bool HasAvailable()
    {
        lock (_popLock)
        {
            return !_stopped && !_broken && TryReadAvailIdx(out ushort availIdx) && availIdx != _lastAvail;
        }
    }

    /// <summary>
    /// Adaptive polling: ask the driver not to kick while the device watches this ring anyway (virtio 1.x §2.7.10).
    /// With EVENT_IDX, avail_event = last_avail - 1: the driver kicks when it moves avail idx from old to new with
    /// avail_event in [old, new) (vring_need_event); old ≥ last_avail and new - last_avail ≤ ring size &lt; 65535, so
    /// last_avail - 1 (= last_avail + 65535) is never in that range. Without EVENT_IDX, VRING_USED_F_NO_NOTIFY.
    /// Until <see cref="EnableKicksAndCheck"/>, TryPop keeps kicks off when it drains the ring. Best effort only: a kick
    /// that still comes (the driver read the old value) is merely redundant.
    /// </summary>
    public void SuppressKicks()
    {
        lock (_popLock)
        {
            if (_stopped || _broken) return;
            _kicksSuppressed = true;
            if (_eventIdx) _memory.TryWriteU16Release(_layout.AvailEvent, (ushort)(_lastAvail - 1));
            else _memory.TryWriteU16Release(_layout.UsedFlags, VringConst.VRING_USED_F_NO_NOTIFY);
        }
    }

    /// <summary>
    /// Undo <see cref="SuppressKicks"/> before the device stops watching the ring: ask for a kick on the next buffer
    /// (avail_event = last_avail, or clear VRING_USED_F_NO_NOTIFY), full fence, then read avail idx again. True when
    /// buffers are waiting that the driver may have published without a kick while kicks were off: the caller must
    /// serve them. False: from here on a new buffer is kicked (the driver reads our store after its avail idx store).
    /// </summary>
    public bool EnableKicksAndCheck()
    {
        lock (_popLock)
        {
            _kicksSuppressed = false;
            if (_stopped || _broken) return false;
            if (_eventIdx) _memory.TryWriteU16Release(_layout.AvailEvent, _lastAvail);
            else _memory.TryWriteU16Release(_layout.UsedFlags, 0);
            // Store the request before loading avail idx; the driver does the mirror image (virtio_mb in kick_prepare).
            Interlocked.MemoryBarrier();
            return TryReadAvailIdx(out ushort availIdx) && availIdx != _lastAvail;
        }
    }

    public void Complete(DescriptorChain chain, uint writtenBytes)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var counter = chain.DetachCounter();
        if (chain.Head >= _layout.Size || Interlocked.Exchange(ref _inFlight[chain.Head], 0) == 0)
        {
            // A second completion, or a chain popped before the ring was stopped and restarted (a model that
            // looks the queue up again at completion time): either would put a stale entry on the used ring.
            _log.Warning("Chain {Head} is not in flight on this queue (completed twice, or popped before a ring restart); completion ignored", chain.Head);
            counter?.Decrement(); // it will never be published: stop counting it
            return;
        }
        uint written = (uint)Math.Min(writtenBytes, chain.WritableLength);
        Interlocked.Decrement(ref _inFlightCount);
        CompleteHead(chain.Head, written);
        // After publication: whoever counts outstanding chains may see this one as outstanding a moment too long, never too short.
        counter?.Decrement();
    }

    private void CompleteHead(ushort head, uint written)
    {
        lock (_usedLock)
        {
            var elem = new VringUsedElem { id = head, len = written };
            ushort slot = (ushort)(_usedIdx & (_layout.Size - 1));
            if (!_memory.TryWrite(_layout.UsedEntry(slot), MemoryMarshal.AsBytes(new ReadOnlySpan<VringUsedElem>(in elem))))
            {
                _log.Error("Used ring entry {Slot} unwritable: completion of head {Head} lost", slot, head);
                return;
            }
            _usedIdx++;
            // Release: the element is visible before the index that publishes it.
            _memory.TryWriteU16Release(_layout.UsedIdx, _usedIdx);
            _completedSinceFlush = true;
        }
    }

    public void Flush()
    {
        lock (_usedLock)
        {
            if (!_completedSinceFlush) return;
            _completedSinceFlush = false;
            // Order our used idx store before reading the driver's suppression fields (virtio §2.7.10).
            Interlocked.MemoryBarrier();
            bool signal;
            if (_eventIdx)
            {
                signal = !_memory.TryReadU16Acquire(_layout.UsedEvent, out ushort usedEvent)
                    || NeedEvent(usedEvent, _usedIdx, _signalledUsed);
            }
            else
            {
                signal = !_memory.TryReadU16Acquire(_layout.AvailRing, out ushort flags)
                    || (flags & VringConst.VRING_AVAIL_F_NO_INTERRUPT) == 0;
            }
            _signalledUsed = _usedIdx;
            if (signal && _call is { } call)
            {
                EventFd.Signal(call);
                Interlocked.Increment(ref _signalCount);
            }
        }
    }

    /// <summary>virtio's vring_need_event: signal if <paramref name="eventIdx"/> lies in (old, new].</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);

    /// <summary>Use <paramref name="call"/> from now on (QEMU replaces it after enable); the queue owns it.</summary>
    public void ReplaceCall(FdHandle? call)
    {
        FdHandle? old;
        lock (_usedLock)
        {
            old = _call;
            _call = call;
        }
        old?.Dispose();
    }

    /// <summary>Detach the call fd (ownership returns to the caller), e.g. when the queue stops.</summary>
    public FdHandle? TakeCall()
    {
        lock (_usedLock)
        {
            var call = _call;
            _call = null;
            return call;
        }
    }

    /// <summary>GET_VRING_BASE: stop popping; returns the next avail index to resume from.</summary>
    public ushort Stop()
    {
        lock (_popLock)
        {
            _stopped = true;
            return _lastAvail;
        }
    }

    private bool TryReadAvailIdx(out ushort availIdx)
    {
        if (_memory.TryReadU16Acquire(_layout.AvailIdx, out availIdx)) return true;
        _broken = true;
        _log.Error("Avail idx at 0x{Gpa:x} unreadable: queue stopped", _layout.AvailIdx);
        return false;
    }
}
