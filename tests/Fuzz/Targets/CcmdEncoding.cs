using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>Builds ccmds as the ROCm guest lays them out (header + family request struct), for seeds and setup.</summary>
public static class CcmdEncoding
{
    /// <summary>Guest-written slot length at every 8-byte offset of the response area: 2 KiB at 2 KiB boundaries, else 16.</summary>
    public static uint SlotLength(int rspOff) => rspOff % 2048 == 0 ? 2048u : 16u;

    public static byte[] Encode<T>(T request, CcmdFamily family, uint seqno, uint rspOff, int? len = null) where T : unmanaged
    {
        var bytes = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in request);
        var hdr = new CcmdReqHeader { cmd = (uint)family, len = (uint)(len ?? bytes.Length), seqno = seqno, rsp_off = rspOff };
        MemoryMarshal.Write(bytes, in hdr);
        return bytes;
    }

    public static byte[] Nop(uint seqno) => Encode(new CcmdNopReq(), CcmdFamily.Nop, seqno, 0);

    /// <summary>A request of <paramref name="size"/> bytes with only the header and the subtype set, plus u64/u32 args.</summary>
    public static byte[] Raw(CcmdFamily family, int size, int subtypeOffset, uint subtype, uint seqno, uint rspOff, params (int Offset, ulong Value, int Width)[] fields)
    {
        var b = new byte[size];
        var hdr = new CcmdReqHeader { cmd = (uint)family, len = (uint)size, seqno = seqno, rsp_off = rspOff };
        MemoryMarshal.Write(b, in hdr);
        if (subtypeOffset >= 0) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(subtypeOffset), subtype);
        foreach (var (o, v, w) in fields)
        {
            if (w == 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v);
            else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), (uint)v);
        }
        return b;
    }
}
