using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Metrics;
using VhsaKmt.Actors.Supervision;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// Runs the ccmds of one SUBMIT_3D payload (PROTOCOL.md §3.3, §3.4, §3.6, §7.3). Every ccmd whose 16-byte header is
/// readable gets its seqno published; errors zero-fill the guest's slot and carry <c>ret</c>. A framing failure
/// answers that ccmd and stops the payload. A handler exception is answered (−EIO) like any error, later ccmds of the
/// payload are answered −EIO without running, and the exception is returned for the actor to rethrow after replying.
/// No allocation per ccmd: requests and responses use the context's reusable buffers.
/// </summary>
public static class CcmdStream
{
    private const int HeaderSize = CcmdReqHeader.Size;

    /// <summary>Processes <paramref name="payload"/> (already a private copy). Returns the handler fault, if any.</summary>
    public static Exception? Process(HandlerContext cx, ReadOnlySpan<byte> payload)
    {
        var state = cx.State;
        var shmem = state.Shmem ?? throw new ContextInvariantException("ccmd stream without shmem");
        Exception? fault = null;
        int off = 0;
        while (payload.Length - off >= HeaderSize)
        {
            var hdr = MemoryMarshal.Read<CcmdReqHeader>(payload[off..]);
            int remaining = payload.Length - off;
            bool lenInRange = hdr.len >= HeaderSize && hdr.len <= (uint)remaining;
            bool last = lenInRange && remaining - (int)hdr.len < HeaderSize;
            bool framed = lenInRange && (hdr.len % 8 == 0 || last);
            bool slotOk = hdr.rsp_off % 8 == 0 && (long)hdr.rsp_off + 8 <= shmem.AreaSize;
            uint guestLen = slotOk ? shmem.ReadSlotLength((int)hdr.rsp_off) : 0;
            state.Ccmds++;

            if (!slotOk)
            {
                shmem.RecordFault();
                cx.Log.Warning("ccmd {Cmd} seqno {Seqno}: rsp_off {RspOff} unaligned or outside the {Area}-byte response area; no response written",
                    hdr.cmd, hdr.seqno, hdr.rsp_off, shmem.AreaSize);
            }
            if (!framed)
            {
                shmem.RecordFault();
                cx.Log.Warning("ccmd {Cmd} seqno {Seqno}: len {Len} invalid with {Remaining} bytes left; rest of the payload dropped",
                    hdr.cmd, hdr.seqno, hdr.len, remaining);
                if (slotOk) WriteSlot(shmem, hdr.rsp_off, guestLen, Errno.EINVAL, default);
                shmem.PublishSeqno(hdr.seqno);
                return fault;
            }

            var request = payload.Slice(off, (int)hdr.len);
            off += (int)hdr.len;
            var entry = CcmdDispatchTable.Lookup(hdr.cmd);
            if (entry is null)
            {
                shmem.RecordFault();
                cx.Log.Debug("ccmd {Cmd} seqno {Seqno}: unknown family", hdr.cmd, hdr.seqno);
                if (slotOk) WriteSlot(shmem, hdr.rsp_off, guestLen, Errno.EINVAL, default);
                shmem.PublishSeqno(hdr.seqno);
                continue;
            }
            if (!entry.HasResponse)
            {
                shmem.PublishSeqno(hdr.seqno); // NOP: seqno only
                continue;
            }

            int ret;
            int hostLen = 0;
            uint subtype = uint.MaxValue;
            long started = Stopwatch.GetTimestamp();
            Span<byte> response = default;
            if (fault is not null)
            {
                ret = Errno.EIO;
            }
            else
            {
                ReadOnlySpan<byte> req = request;
                int reqLen = request.Length;
                if (entry.Family == CcmdFamily.Memory && IsGInit(cx, request.Length))
                {
                    // G-init layout (§4.10): translated field by field, never parsed as G-new.
                    uint t = request.Length >= 76 ? BinaryPrimitives.ReadUInt32LittleEndian(request[72..]) : 0;
                    if (t > GInitCcmdMemoryReq.MaxSubtype || t == (uint)MemoryType.RegMemWithFlag)
                    {
                        cx.Log.Information("G-init MEMORY subtype {Subtype} refused: not served for this guest revision", t);
                        if (slotOk) WriteSlot(shmem, hdr.rsp_off, guestLen, Errno.EINVAL, default);
                        shmem.PublishSeqno(hdr.seqno);
                        continue;
                    }
                    reqLen = GInitMemoryCodec.ToGNew(request, ref state.RequestBuffer);
                    req = state.RequestBuffer.AsSpan(0, reqLen);
                }
                if (reqLen < entry.RequestSize)
                {
                    // Older, shorter guest request: zero-extend into the private buffer.
                    var buf = state.RequestBuffer;
                    req.CopyTo(buf);
                    buf.AsSpan(reqLen, entry.RequestSize - reqLen).Clear();
                    req = buf.AsSpan(0, entry.RequestSize);
                }
                int avail = slotOk ? shmem.AreaSize - (int)hdr.rsp_off : 0;
                int cap = Math.Max(entry.ResponseSize, (int)Math.Min(guestLen, (uint)avail));
                cap = Math.Min(cap, state.ResponseBuffer.Length);
                response = state.ResponseBuffer.AsSpan(0, cap);
                response.Clear();
                subtype = BinaryPrimitives.ReadUInt32LittleEndian(req[entry.SubtypeOffset..]);
                var call = new CcmdCall
                {
                    Request = req,
                    Length = reqLen,
                    Response = response,
                    ResponseLength = entry.ResponseSize,
                    GuestSlotLength = guestLen,
                    Subtype = subtype,
                };
                var handler = subtype < (uint)entry.Subtypes.Length ? entry.Subtypes[subtype] : null;
                if (handler is null)
                {
                    cx.Log.Debug("ccmd {Cmd} seqno {Seqno}: unknown subtype {Subtype}", hdr.cmd, hdr.seqno, subtype);
                    ret = Errno.EINVAL;
                }
                else
                {
                    try
                    {
                        ret = handler(cx, ref call);
                        hostLen = call.ResponseLength;
                    }
                    catch (Exception ex)
                    {
                        state.HandlerFaults++;
                        shmem.RecordFault();
                        fault = ex is ContextInvariantException ? ex : new CcmdHandlerException(hdr.cmd, subtype, ex);
                        cx.Log.Error(ex, "ccmd {Cmd} subtype {Subtype} seqno {Seqno}: handler fault; answered -EIO", hdr.cmd, subtype, hdr.seqno);
                        ret = Errno.EIO;
                    }
                }
            }
            if (slotOk)
                WriteSlot(shmem, hdr.rsp_off, guestLen, ret, ret == 0 ? response[..Math.Min(hostLen, response.Length)] : default);
            shmem.PublishSeqno(hdr.seqno);
            if (state.MetricTags is { } tags)
            {
                var result = fault is not null ? CommandResult.HostError : ret == 0 ? CommandResult.Ok : CommandResult.GuestError;
                VhsaKmtMetrics.RecordCcmd(tags, CcmdNames.Family(hdr.cmd), CcmdNames.Subtype(hdr.cmd, subtype), result, Stopwatch.GetTimestamp() - started);
            }
        }
        if (off != payload.Length)
        {
            shmem.RecordFault();
            cx.Log.Warning("submit: {Trailing} trailing bytes after the last ccmd ignored", payload.Length - off);
        }
        return fault;
    }

    /// <summary>
    /// True when some ccmd of <paramref name="payload"/> must run on the context's actor: its subtype creates or stops
    /// lifetime actors (<see cref="CcmdFamilyEntry.ActorSubtypes"/>), or it is a MEMORY request that is not plainly
    /// G-new (G-init or short: its subtype is only known after translation). Scans as far as <see cref="Process"/>
    /// would run; a framing error ends both. Reads nothing else.
    /// </summary>
    public static bool NeedsActor(ReadOnlySpan<byte> payload, GuestRevision revision)
    {
        int off = 0;
        while (payload.Length - off >= HeaderSize)
        {
            var hdr = MemoryMarshal.Read<CcmdReqHeader>(payload[off..]);
            if (hdr.len < HeaderSize || hdr.len > (uint)(payload.Length - off)) return false;
            var request = payload.Slice(off, (int)hdr.len);
            off += (int)hdr.len;
            var entry = CcmdDispatchTable.Lookup(hdr.cmd);
            if (entry is null || entry.ActorSubtypes.Length == 0) continue;
            if (entry.Family == CcmdFamily.Memory && (revision == GuestRevision.GInit || request.Length < CcmdMemoryReq.Size)) return true;
            // A request too short to hold its subtype is zero-extended: subtype 0.
            uint subtype = request.Length >= entry.SubtypeOffset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(request[entry.SubtypeOffset..]) : 0;
            if (Array.IndexOf(entry.ActorSubtypes, subtype) >= 0) return true;
        }
        return false;
    }

    /// <summary>The context's guest revision, fixed by its first MEMORY request (len &lt; 312 = G-init), logged once.</summary>
    private static bool IsGInit(HandlerContext cx, int len)
    {
        var state = cx.State;
        if (state.GuestRevision == GuestRevision.Unknown)
        {
            state.GuestRevision = len < CcmdMemoryReq.Size ? GuestRevision.GInit : GuestRevision.GNew;
            state.GuestRevisionLogged = true;
            cx.Log.Information("guest revision {Revision} detected from a MEMORY request of {Len} bytes", state.GuestRevision, len);
        }
        return state.GuestRevision == GuestRevision.GInit;
    }

    /// <summary>
    /// Writes one slot: success copies min(guest len, host len) bytes and stores that length; an error (or a success
    /// that does not fit) zero-fills min(guest len, area − rsp_off) bytes and writes len + ret. A guest len &lt; 8
    /// gets nothing. The caller publishes seqno afterwards (Interlocked = release barrier).
    /// </summary>
    internal static void WriteSlot(ShmemRegion shmem, uint rspOff, uint guestLen, int ret, ReadOnlySpan<byte> response)
    {
        if (guestLen < 8) return;
        var area = shmem.Area;
        int avail = area.Length - (int)rspOff;
        if (ret == 0)
        {
            int copy = (int)Math.Min(guestLen, (uint)response.Length);
            if (copy >= 8 && copy <= avail)
            {
                var slot = area.Slice((int)rspOff, copy);
                response[..copy].CopyTo(slot);
                BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)copy);
                BinaryPrimitives.WriteInt32LittleEndian(slot[4..], 0);
                return;
            }
            ret = Errno.EINVAL; // the guest's own reservation crosses the end of the area
        }
        int slotLen = (int)Math.Min(guestLen, (uint)avail);
        var s = area.Slice((int)rspOff, slotLen);
        s.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)slotLen);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], ret);
    }
}
