using System.Buffers;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Device;

/// <summary>Where a finished response goes: write it into the chain and put the chain on the used ring.</summary>
public delegate void ResponseSink(DescriptorChain chain, ReadOnlySpan<byte> response);

/// <summary>One fenced command waiting for its turn on its timeline.</summary>
public sealed class FenceTicket
{
    internal FenceTicket(FenceKey key, DescriptorChain chain) { Key = key; Chain = chain; }
    public FenceKey Key { get; }
    public DescriptorChain Chain { get; }
    public bool IsDone { get; internal set; }
    internal byte[]? Response;
    internal int ResponseLength;
}

/// <summary>A fence timeline: (ctx, ring) with INFO_RING_IDX, else the device-global timeline.</summary>
public readonly record struct FenceKey(uint CtxId, ushort Ring)
{
    public const ushort Global = 0x100;
    public static FenceKey Of(in ControlHeader h) => h.HasRingIdx ? new FenceKey(h.CtxId, h.RingIdx) : new FenceKey(0, Global);
}

/// <summary>
/// Retires fenced responses strictly in arrival order per timeline (PROTOCOL.md §2.5): a response that is ready
/// before an earlier one on the same timeline is parked (copied into a pooled buffer) until its predecessors are out.
/// Different timelines never wait for each other. Not thread-safe: owned by one DeviceActor.
/// </summary>
public sealed class FenceTimelines
{
    /// <summary>Empty timelines kept for reuse (a queue per (ctx, ring) in use, not one per fence); beyond it they go.</summary>
    public const int MaxIdleTimelines = 1024;

    private readonly Dictionary<FenceKey, Queue<FenceTicket>> _lines = new();

    /// <summary>Timelines currently held, busy or idle (diagnostics and tests).</summary>
    public int Timelines => _lines.Count;

    /// <summary>Fenced commands not yet retired.</summary>
    public int Pending { get; private set; }

    public FenceTicket Enqueue(in ControlHeader header, DescriptorChain chain)
    {
        var key = FenceKey.Of(header);
        if (!_lines.TryGetValue(key, out var q)) _lines[key] = q = new Queue<FenceTicket>();
        var t = new FenceTicket(key, chain);
        q.Enqueue(t);
        Pending++;
        return t;
    }

    /// <summary>The response of <paramref name="ticket"/> is ready: emit it now if it is first in line, with every parked successor.</summary>
    public void Complete(FenceTicket ticket, ReadOnlySpan<byte> response, ResponseSink sink)
    {
        if (ticket.IsDone) throw new InvalidOperationException("fence ticket completed twice");
        var q = _lines[ticket.Key];
        if (!ReferenceEquals(q.Peek(), ticket))
        {
            ticket.Response = ArrayPool<byte>.Shared.Rent(Math.Max(response.Length, 1));
            response.CopyTo(ticket.Response);
            ticket.ResponseLength = response.Length;
            ticket.IsDone = true;
            return;
        }

        ticket.IsDone = true;
        q.Dequeue();
        Pending--;
        sink(ticket.Chain, response);
        while (q.Count > 0 && q.Peek().IsDone)
        {
            var next = q.Dequeue();
            Pending--;
            sink(next.Chain, next.Response.AsSpan(0, next.ResponseLength));
            ReturnBuffer(next);
        }
        // Keep the idle queue for this timeline's next fence; the header's ctx and ring are the guest's, so only so many.
        if (q.Count == 0 && _lines.Count > MaxIdleTimelines) _lines.Remove(ticket.Key);
    }

    /// <summary>Forget everything (device reset: the rings are gone), returning parked buffers.</summary>
    public void Clear()
    {
        foreach (var q in _lines.Values)
            foreach (var t in q) ReturnBuffer(t);
        _lines.Clear();
        Pending = 0;
    }

    private static void ReturnBuffer(FenceTicket t)
    {
        if (t.Response is { } b) { t.Response = null; ArrayPool<byte>.Shared.Return(b); }
    }
}
