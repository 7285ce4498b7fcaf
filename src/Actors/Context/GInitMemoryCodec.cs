using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// Second codec table entry for G-init MEMORY requests (PROTOCOL.md §4.10): the 80-byte request is rewritten into the
/// G-new layout (union @16, blob_id @296, type @304, res_id @308, payload @312). G-init's ALLOC args lack Alignment,
/// which therefore stays 0. The response needs no translation: G-init's 24-byte response is the prefix of G-new's,
/// and the guest's 24-byte reservation truncates it.
/// </summary>
public static class GInitMemoryCodec
{
    /// <summary>Writes the G-new form of <paramref name="ginit"/> into <paramref name="buffer"/> (grown if needed); returns its length.</summary>
    public static int ToGNew(ReadOnlySpan<byte> ginit, ref byte[] buffer)
    {
        int payload = Math.Max(0, ginit.Length - GInitCcmdMemoryReq.PayloadOffset);
        int total = CcmdMemoryReq.Size + payload;
        if (buffer.Length < total) buffer = new byte[total]; // grows once for an unusually long payload
        var dst = buffer.AsSpan(0, total);
        dst[..CcmdMemoryReq.Size].Clear();
        Span<byte> src = stackalloc byte[GInitCcmdMemoryReq.Size];
        src.Clear();
        ginit[..Math.Min(ginit.Length, GInitCcmdMemoryReq.Size)].CopyTo(src); // zero-extend a short request
        src[..CcmdReqHeader.Size].CopyTo(dst);
        src.Slice(GInitCcmdMemoryReq.UnionOffset, GInitCcmdMemoryReq.UnionSize).CopyTo(dst[16..]);
        src.Slice(64, 8).CopyTo(dst[296..]); // blob_id
        src.Slice(72, 4).CopyTo(dst[304..]); // type
        src.Slice(76, 4).CopyTo(dst[308..]); // res_id
        if (payload > 0) ginit[GInitCcmdMemoryReq.PayloadOffset..].CopyTo(dst[CcmdMemoryReq.PayloadOffset..]);
        return total;
    }
}
