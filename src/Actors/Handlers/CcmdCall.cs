using System.Runtime.InteropServices;

namespace VhsaKmt.Actors.Handlers;

/// <summary>
/// One ccmd as a handler sees it: <see cref="Request"/> is a private copy zero-extended to the family's request size
/// (never guest memory); <see cref="Response"/> is a zeroed private buffer at least the family's response size, as
/// large as the guest's reservation allows. The handler sets <see cref="ResponseLength"/> when it produces a payload.
/// </summary>
public ref struct CcmdCall
{
    public ReadOnlySpan<byte> Request;
    /// <summary>The guest's <c>len</c> (bytes of the request actually sent).</summary>
    public int Length;
    public Span<byte> Response;
    /// <summary>Host response length (struct + payload); starts at the family's response size.</summary>
    public int ResponseLength;
    /// <summary>The guest's pre-written slot length (read once), or 0 when the slot is unusable.</summary>
    public uint GuestSlotLength;
    public uint Subtype;

    /// <summary>The request struct (zero-extended private copy).</summary>
    public readonly T Read<T>() where T : unmanaged => MemoryMarshal.Read<T>(Request);

    /// <summary>The response struct, written in place.</summary>
    public readonly ref T Rsp<T>() where T : unmanaged => ref MemoryMarshal.AsRef<T>(Response);

    /// <summary>Payload bytes the guest really sent after <paramref name="payloadOffset"/>.</summary>
    public readonly ReadOnlySpan<byte> Payload(int payloadOffset) =>
        Length > payloadOffset ? Request[payloadOffset..Length] : ReadOnlySpan<byte>.Empty;

    /// <summary>
    /// Reserves <paramref name="bytes"/> of response payload at <paramref name="payloadOffset"/>; false if it does not
    /// fit the private buffer (i.e. exceeds the guest's reservation or the response area).
    /// </summary>
    public bool TryResponsePayload(int payloadOffset, long bytes, out Span<byte> payload)
    {
        payload = default;
        if (bytes < 0 || payloadOffset + bytes > Response.Length) return false;
        payload = Response.Slice(payloadOffset, (int)bytes);
        ResponseLength = Math.Max(ResponseLength, payloadOffset + (int)bytes);
        return true;
    }
}

/// <summary>A subtype handler: returns <c>ret</c> (0, an HsaStatus, or a negative errno).</summary>
public delegate int CcmdHandler(HandlerContext cx, ref CcmdCall call);
