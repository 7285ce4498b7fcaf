using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Robustness.Tests.Support;

/// <summary>What a hand-built submit got back: the SUBMIT_3D answer, the seqno in shmem afterwards, the raw slot.</summary>
public sealed record RawAnswer(VirtioGpuCtrlType Status, uint Published, uint Seqno, byte[] Slot)
{
    public int Ret => Slot.Length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(Slot.AsSpan(4)) : int.MinValue;
    public uint SlotLen => Slot.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Slot) : 0;
}

/// <summary>
/// A guest that lies: builds ccmds with whatever header fields a case wants, in the shmem of a started
/// <see cref="RocmProcess"/>, and submits them as its own SUBMIT_3D. Its seqnos run far behind the process's own
/// (so the process's later waits are not satisfied by ours) and its slots live in the last page of the area.
/// </summary>
public sealed class RawCcmd(GuestGpu gpu, RocmProcess process)
{
    private uint _k;

    public ulong ShmOffset => process.Shmem!.ShmOffset!.Value;
    /// <summary>Read once, as G-new does at start-up: a guest that later scribbles over its header keeps using it.</summary>
    public uint RspMemOffset => _rspMemOffset ??= BinaryPrimitives.ReadUInt32LittleEndian(gpu.Window.Read(ShmOffset + 4, 4));
    private uint? _rspMemOffset;
    public int AreaSize => process.AreaSize;

    /// <summary>Default slot: the start of the area's last page.</summary>
    public uint SlotOffset => (uint)(AreaSize - 4096);

    public uint NextSeqno() => process.LastSeqno - 1000 - ++_k;

    public static byte[] Request<T>(in T request) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in request)).ToArray();

    /// <summary>Stamp a header (cmd, len, seqno, rsp_off) on <paramref name="bytes"/> as given; nothing is corrected.</summary>
    public static byte[] Stamp(byte[] bytes, uint cmd, uint len, uint seqno, uint rspOff)
    {
        var hdr = new CcmdReqHeader { cmd = cmd, len = len, seqno = seqno, rsp_off = rspOff };
        MemoryMarshal.Write(bytes, in hdr);
        return bytes;
    }

    /// <summary>Pre-write the slot at <paramref name="rspOff"/> (len = <paramref name="slotLen"/>, then 0xEE) when it lies inside the area.</summary>
    public void Prewrite(uint rspOff, uint slotLen, int bytes = 256)
    {
        if ((long)rspOff + bytes > AreaSize) return;
        var fill = new byte[bytes];
        fill.AsSpan().Fill(0xEE);
        BinaryPrimitives.WriteUInt32LittleEndian(fill, slotLen);
        gpu.Window.Write(ShmOffset + RspMemOffset + rspOff, fill);
    }

    /// <summary>SUBMIT_3D of <paramref name="payload"/> on this process's context; reads seqno and the slot at <paramref name="rspOff"/>.</summary>
    public RawAnswer Submit(byte[] payload, uint rspOff, uint seqno, int slotBytes = 256, uint? ctxId = null)
    {
        var r = gpu.Command(GpuRequests.Submit3D(ctxId ?? process.CtxId, payload, GpuRequests.FenceAndRing, gpu.NextFence(), 0));
        uint published = BinaryPrimitives.ReadUInt32LittleEndian(gpu.Window.Read(ShmOffset, 4));
        var slot = (long)rspOff + slotBytes <= AreaSize ? gpu.Window.Read(ShmOffset + RspMemOffset + rspOff, slotBytes) : [];
        return new RawAnswer(r.Type, published, seqno, slot);
    }

    /// <summary>One ccmd of <paramref name="family"/> built from <paramref name="request"/> with an honest header, slot pre-written.</summary>
    public RawAnswer One<T>(CcmdFamily family, T request, uint slotLen = 256, byte[]? payload = null) where T : unmanaged
    {
        var bytes = Request(request);
        if (payload is not null) bytes = [.. bytes, .. payload];
        uint seq = NextSeqno();
        Stamp(bytes, (uint)family, (uint)bytes.Length, seq, SlotOffset);
        Prewrite(SlotOffset, slotLen);
        return Submit(bytes, SlotOffset, seq);
    }
}
