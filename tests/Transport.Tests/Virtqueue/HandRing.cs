using System.Buffers.Binary;
using Serilog;
using VhsaKmt.TestSupport.Memory;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>The driver side of a split ring built by hand in managed memory, served by a real <see cref="SplitVirtqueue"/>.</summary>
public sealed class HandRing
{
    public const ulong Ram = 0x10_0000;
    public const ushort Size = 8;
    public static readonly VringLayout Layout = new(Size, Ram + 0x1000, Ram + 0x2000, Ram + 0x3000);
    public const ulong Buffers = Ram + 0x4000;

    private readonly byte[] _bytes = new byte[0x10000];
    private ushort _availIdx;

    public HandRing(bool eventIdx = true)
    {
        Memory = new FakeRingMemory((Ram, _bytes));
        Queue = new SplitVirtqueue(0, Memory, Layout, 0, eventIdx, indirect: false, call: null, new LoggerConfiguration().CreateLogger());
    }

    public FakeRingMemory Memory { get; }
    public SplitVirtqueue Queue { get; }

    /// <summary>A 2-descriptor chain at <paramref name="head"/> (readable, then writable), published.</summary>
    public void Publish(ushort head, ulong readAddr, uint readLen, ulong writeAddr, uint writeLen)
    {
        ushort second = (ushort)((head + 1) % Size);
        WriteDesc(head, readAddr, readLen, VringConst.VRING_DESC_F_NEXT, second);
        WriteDesc(second, writeAddr, writeLen, VringConst.VRING_DESC_F_WRITE, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(Span(Layout.AvailEntry((ushort)(_availIdx % Size)), 2), head);
        _availIdx++;
        BinaryPrimitives.WriteUInt16LittleEndian(Span(Layout.AvailIdx, 2), _availIdx);
    }

    private void WriteDesc(ushort index, ulong addr, uint len, ushort flags, ushort next)
    {
        var d = Span(Layout.DescTable + (ulong)index * VringDesc.Size, VringDesc.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(d, addr);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], len);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    private Span<byte> Span(ulong gpa, int length) => _bytes.AsSpan((int)(gpa - Ram), length);

    public ushort AvailIdx => _availIdx;
    public ushort UsedIdx => BinaryPrimitives.ReadUInt16LittleEndian(Span(Layout.UsedIdx, 2));
    public ushort AvailEvent => BinaryPrimitives.ReadUInt16LittleEndian(Span(Layout.AvailEvent, 2));
    public ushort UsedFlags => BinaryPrimitives.ReadUInt16LittleEndian(Span(Layout.UsedRing, 2));

    /// <summary>What a Linux driver decides after publishing one buffer: vring_need_event / !NO_NOTIFY.</summary>
    public bool DriverWouldKick(bool eventIdx) => eventIdx
        ? SplitVirtqueue.NeedEvent(AvailEvent, _availIdx, (ushort)(_availIdx - 1))
        : (UsedFlags & VringConst.VRING_USED_F_NO_NOTIFY) == 0;
}
