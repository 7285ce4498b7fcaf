using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

// SET_VRING_*, GET_VRING_BASE: ring setup, start, stop, enable.
public sealed partial class VhostUserConnection
{
    /// <summary>Largest ring accepted (virtio's limit for split rings).</summary>
    public const int MaxQueueSize = 32768;

    private VringSlot SlotFor(uint index) =>
        index < (uint)_slots.Length ? _slots[index] : throw Refuse($"queue {index} >= {_slots.Length} queues");

    private Outcome OnSetVringNum()
    {
        var state = _reader.ReadVringState();
        var slot = SlotFor(state.Index);
        if (state.Num is 0 or > MaxQueueSize || (state.Num & (state.Num - 1)) != 0)
            throw Refuse($"queue {state.Index} size {state.Num} not a power of two ≤ {MaxQueueSize}");
        if (slot.Queue is not null) throw Refuse($"queue {state.Index} is running");
        slot.Num = (ushort)state.Num;
        return Outcome.Ok;
    }

    private Outcome OnSetVringAddr()
    {
        var addr = _reader.ReadVringAddr();
        var slot = SlotFor(addr.Index);
        if (slot.Queue is not null) throw Refuse($"queue {addr.Index} is running");
        // Kept as user addresses; translated when the ring starts (the memory table may come later).
        slot.Addr = addr;
        return Outcome.Ok;
    }

    private Outcome OnSetVringBase()
    {
        var state = _reader.ReadVringState();
        var slot = SlotFor(state.Index);
        if (slot.Queue is not null) throw Refuse($"queue {state.Index} is running");
        if (state.Num > ushort.MaxValue) throw Refuse($"queue {state.Index} base {state.Num} > 65535");
        slot.Base = (ushort)state.Num;
        return Outcome.Ok;
    }

    private Outcome OnGetVringBase()
    {
        var state = _reader.ReadVringState();
        var slot = SlotFor(state.Index);
        ushort lastAvail = slot.Base;
        if (slot.Queue is { } queue)
        {
            lastAvail = queue.Stop();
            queue.Flush();
            slot.Published = null;
            slot.Call = queue.TakeCall() ?? slot.Call;
            slot.Queue = null;
        }
        if (slot.Kick is { } kick)
        {
            _epoll.Remove(kick.Fd);
            kick.Dispose();
            slot.Kick = null;
        }
        slot.KickPolled = false;
        slot.Base = lastAvail;
        _log.Information("Queue {Queue} stopped at avail index {LastAvail}", state.Index, lastAvail);
        return Reply(new VringStatePayload { Index = state.Index, Num = lastAvail });
    }

    private Outcome OnSetVringKick()
    {
        ulong value = _reader.ReadU64();
        var slot = SlotFor((uint)(value & VringFdPayload.IndexMask));
        if (slot.Kick is { } old)
        {
            _epoll.Remove(old.Fd);
            old.Dispose();
            slot.Kick = null;
        }
        slot.KickPolled = (value & VringFdPayload.NoFdFlag) != 0;
        if (!slot.KickPolled)
        {
            var kick = _reader.TakeFd(0);
            try
            {
                // Edge-triggered: every kick (eventfd write) is one event, so the IO thread never reads the kick eventfd,
                // one syscall less per kick (bench/ANALYSIS.md). The counter only grows; a front-end that saturates it
                // stops its own kicks, nobody else's.
                _epoll.Add(kick.Fd, KickTagBase + (ulong)slot.Index, edgeTriggered: true);
            }
            catch
            {
                kick.Dispose();
                throw;
            }
            slot.Kick = kick;
        }
        // vhost-user: a ring starts when its kick fd arrives.
        if (slot.Queue is null) StartRing(slot);
        return Outcome.Ok;
    }

    private Outcome OnSetVringCall()
    {
        ulong value = _reader.ReadU64();
        var slot = SlotFor((uint)(value & VringFdPayload.IndexMask));
        FdHandle? call = (value & VringFdPayload.NoFdFlag) != 0 ? null : _reader.TakeFd(0);
        // QEMU replaces the call fd after enable (VHOST-USER.md §4): always use the latest.
        if (slot.Queue is { } queue) queue.ReplaceCall(call);
        else
        {
            slot.Call?.Dispose();
            slot.Call = call;
        }
        return Outcome.Ok;
    }

    private Outcome OnSetVringErr()
    {
        ulong value = _reader.ReadU64();
        var slot = SlotFor((uint)(value & VringFdPayload.IndexMask));
        slot.Err?.Dispose();
        slot.Err = (value & VringFdPayload.NoFdFlag) != 0 ? null : _reader.TakeFd(0);
        return Outcome.Ok;
    }

    private Outcome OnSetVringEnable()
    {
        var state = _reader.ReadVringState();
        var slot = SlotFor(state.Index);
        if (state.Num > 1) throw Refuse($"SET_VRING_ENABLE {state.Num} is neither 0 nor 1");
        slot.Enabled = state.Num == 1;
        _log.Information("Queue {Queue} {State}", state.Index, slot.Enabled ? "enabled" : "disabled");
        PublishIfLive(slot);
        return Outcome.Ok;
    }

    private void StartRing(VringSlot slot)
    {
        if (slot.Num == 0) throw Refuse($"queue {slot.Index} started without SET_VRING_NUM");
        if (slot.Addr is not { } addr) throw Refuse($"queue {slot.Index} started without SET_VRING_ADDR");
        var sizes = new VringLayout(slot.Num, 0, 0, 0);
        ulong desc = Translate(slot.Index, "descriptor table", addr.DescUserAddr, sizes.DescBytes, 16);
        ulong avail = Translate(slot.Index, "avail ring", addr.AvailUserAddr, sizes.AvailBytes, 2);
        ulong used = Translate(slot.Index, "used ring", addr.UsedUserAddr, sizes.UsedBytes, 4);
        ulong features = _ackedFeatures;
        var queue = new SplitVirtqueue(slot.Index, _memory, new VringLayout(slot.Num, desc, avail, used), slot.Base,
            eventIdx: (features & VirtioTransportFeatures.EventIdx) != 0,
            indirect: (features & VirtioTransportFeatures.IndirectDesc) != 0,
            call: slot.Call, _log.ForContext("Queue", slot.Index));
        slot.Call = null; // the queue owns it now
        slot.Queue = queue;
        // Without protocol features a ring is enabled as soon as it starts (vhost-user.rst, "Ring states").
        if ((features & VirtioTransportFeatures.ProtocolFeatures) == 0) slot.Enabled = true;
        _log.Information("Queue {Queue} started: size {Size}, avail index {Base}", slot.Index, slot.Num, slot.Base);
        PublishIfLive(slot);
    }

    private ulong Translate(int queue, string what, ulong userAddr, ulong length, ulong alignment)
    {
        if (userAddr % alignment != 0) throw Refuse($"queue {queue} {what} at 0x{userAddr:x} not {alignment}-byte aligned");
        if (!_memory.TryTranslateUser(userAddr, length, out ulong gpa))
            throw Refuse($"queue {queue} {what} [0x{userAddr:x}, +{length}) is not in the memory table");
        return gpa;
    }

    private void PublishIfLive(VringSlot slot)
    {
        if (!slot.IsLive)
        {
            slot.Published = null;
            return;
        }
        if (!_attached)
        {
            _attached = true;
            _model.Attach(this);
        }
        slot.Published = slot.Queue;
        // Buffers made available before the ring was live got no kick of their own.
        if (slot.Queue!.HasAvailable()) NotifyQueue(slot.Index);
    }
}
