using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Tests.Support;

/// <summary>
/// Encodes ccmds the way the ROCm guest does: a bump-allocated response slot with the expected length pre-written,
/// seqno +1 per ccmd, the request struct followed by its payload. Reads responses back from the mapped shmem.
/// </summary>
public sealed class GuestCcmd(MappedRegion shmem)
{
    public const int RspMemOffset = 16;
    private uint _seqno;
    private int _next;

    public MappedRegion Shmem { get; } = shmem;
    public int AreaSize => (int)Shmem.Length - RspMemOffset;
    public uint LastSeqno => _seqno;
    public uint PublishedSeqno => BinaryPrimitives.ReadUInt32LittleEndian(Shmem.AsSpan(0, 4));
    public uint AsyncError => BinaryPrimitives.ReadUInt32LittleEndian(Shmem.AsSpan(8, 4));
    public uint RspMemOffsetField => BinaryPrimitives.ReadUInt32LittleEndian(Shmem.AsSpan(4, 4));

    /// <summary>Takes the next slot for a response of <paramref name="rspSize"/> bytes (rounded to 8), pre-writes len.</summary>
    public int TakeSlot(int rspSize, byte fill = 0xEE)
    {
        int size = (rspSize + 7) & ~7;
        if (_next + size >= AreaSize) _next = 0;
        int off = _next;
        _next += size;
        var slot = Shmem.AsSpan((ulong)(RspMemOffset + off), size);
        slot.Fill(fill); // stale bytes: an error answer must zero them
        BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)size);
        return off;
    }

    /// <summary>One ccmd: header + struct bytes (+ payload); len = struct + payload unless overridden.</summary>
    public byte[] Encode<T>(T req, CcmdFamily cmd, int rspSize, ReadOnlySpan<byte> payload = default, int? len = null, int? rspOff = null, int? structSize = null)
        where T : unmanaged
    {
        int size = structSize ?? Marshal.SizeOf<T>();
        int total = len ?? size + payload.Length;
        var bytes = new byte[Math.Max(total, size + payload.Length)];
        MemoryMarshal.Write(bytes, in req);
        payload.CopyTo(bytes.AsSpan(size));
        var off = rspOff ?? (rspSize > 0 ? TakeSlot(rspSize) : 0);
        var hdr = new CcmdReqHeader { cmd = (uint)cmd, len = (uint)total, seqno = ++_seqno, rsp_off = (uint)off };
        MemoryMarshal.Write(bytes, in hdr);
        LastRspOff = off;
        return bytes.AsSpan(0, total).ToArray();
    }

    public int LastRspOff { get; private set; }

    public Span<byte> Slot(int rspOff, int size) => Shmem.AsSpan((ulong)(RspMemOffset + rspOff), size);
    public uint SlotLen(int rspOff) => BinaryPrimitives.ReadUInt32LittleEndian(Slot(rspOff, 4));
    public int SlotRet(int rspOff) => BinaryPrimitives.ReadInt32LittleEndian(Slot(rspOff, 8)[4..]);
    public T Response<T>(int rspOff) where T : unmanaged => MemoryMarshal.Read<T>(Slot(rspOff, Marshal.SizeOf<T>()));
}
