using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.VhostUser;

// Request dispatch: validation against RequestShapes, the handler table, REPLY_ACK.
public sealed partial class VhostUserConnection
{
    /// <summary>What a handler did: succeeded or failed (REPLY_ACK status), or sent its own reply.</summary>
    private enum Outcome { Ok, Failed, Replied }

    private static readonly Dictionary<VhostUserRequest, Func<VhostUserConnection, Outcome>> Handlers = new()
    {
        [VhostUserRequest.GetFeatures] = c => c.OnGetFeatures(),
        [VhostUserRequest.SetFeatures] = c => c.OnSetFeatures(),
        [VhostUserRequest.GetProtocolFeatures] = c => c.OnGetProtocolFeatures(),
        [VhostUserRequest.SetProtocolFeatures] = c => c.OnSetProtocolFeatures(),
        [VhostUserRequest.SetOwner] = c => c.OnSetOwner(),
        [VhostUserRequest.ResetOwner] = c => c.OnReset(Virtio.DeviceResetReason.ResetOwner),
        [VhostUserRequest.ResetDevice] = c => c.OnReset(Virtio.DeviceResetReason.ResetDevice),
        [VhostUserRequest.GetQueueNum] = c => c.ReplyU64((ulong)c._slots.Length),
        [VhostUserRequest.SetMemTable] = c => c.OnSetMemTable(),
        [VhostUserRequest.GetMaxMemSlots] = c => c.ReplyU64(GuestMemoryTable.MaxSlots),
        [VhostUserRequest.AddMemReg] = c => c.OnAddMemReg(),
        [VhostUserRequest.RemMemReg] = c => c.OnRemMemReg(),
        [VhostUserRequest.SetVringNum] = c => c.OnSetVringNum(),
        [VhostUserRequest.SetVringAddr] = c => c.OnSetVringAddr(),
        [VhostUserRequest.SetVringBase] = c => c.OnSetVringBase(),
        [VhostUserRequest.GetVringBase] = c => c.OnGetVringBase(),
        [VhostUserRequest.SetVringKick] = c => c.OnSetVringKick(),
        [VhostUserRequest.SetVringCall] = c => c.OnSetVringCall(),
        [VhostUserRequest.SetVringErr] = c => c.OnSetVringErr(),
        [VhostUserRequest.SetVringEnable] = c => c.OnSetVringEnable(),
        [VhostUserRequest.GetConfig] = c => c.OnGetConfig(),
        [VhostUserRequest.SetConfig] = c => c.OnSetConfig(),
        [VhostUserRequest.GetShmemConfig] = c => c.OnGetShmemConfig(),
        [VhostUserRequest.SetStatus] = c => c.OnSetStatus(),
        [VhostUserRequest.GetStatus] = c => c.ReplyU64(c._status),
        [VhostUserRequest.SetBackendReqFd] = c => c.OnSetBackendReqFd(),
        [VhostUserRequest.GpuSetSocket] = c => c.OnGpuSetSocket(),
    };

    /// <summary>Requests whose reply is part of the request itself (sent whatever REPLY_ACK says).</summary>
    private static bool HasMandatoryReply(VhostUserRequest r) => r is VhostUserRequest.GetFeatures
        or VhostUserRequest.GetProtocolFeatures or VhostUserRequest.GetVringBase or VhostUserRequest.GetQueueNum
        or VhostUserRequest.GetConfig or VhostUserRequest.GetMaxMemSlots or VhostUserRequest.GetStatus
        or VhostUserRequest.GetShmemConfig;

    private void HandleMessage()
    {
        var header = _reader.Header;
        var request = (VhostUserRequest)header.Request;
        if (header.IsReply)
            throw new VhostUserProtocolException($"front-end sent a reply flag on request {header.Request}", fatal: true);

        string? invalid = RequestShapes.Validate(request, _reader.Payload, _reader.FdCount);
        Outcome outcome;
        if (invalid is not null)
        {
            _log.Error("Rejected {Request} ({Code}): {Reason}", request, header.Request, invalid);
            outcome = Outcome.Failed;
        }
        else
        {
            _log.Debug("{Request} size {Size} fds {Fds}", request, header.PayloadSize, _reader.FdCount);
            try
            {
                outcome = Handlers[request](this);
            }
            catch (Exception e) when (e is VhostUserProtocolException { Fatal: false } or LibcException)
            {
                _log.Error("{Request} failed: {Reason}", request, e.Message);
                outcome = Outcome.Failed;
            }
        }

        if (outcome == Outcome.Replied) return;
        if (header.NeedsReply || HasMandatoryReply(request))
            _writer.ReplyU64(header.Request, outcome == Outcome.Ok ? 0UL : 1UL);
    }

    private Outcome ReplyU64(ulong value)
    {
        _writer.ReplyU64(_reader.Header.Request, value);
        return Outcome.Replied;
    }

    private Outcome Reply<T>(in T payload) where T : unmanaged
    {
        _writer.Send(_reader.Header.Request, VhostUserHeader.ReplyFlag, in payload);
        return Outcome.Replied;
    }

    private Outcome ReplyBytes(ReadOnlySpan<byte> payload)
    {
        _writer.Send(_reader.Header.Request, VhostUserHeader.ReplyFlag, payload);
        return Outcome.Replied;
    }

    private static VhostUserProtocolException Refuse(string why) => new(why, fatal: false);

    private bool HasProtocolFeature(VhostUserProtocolFeatures feature) => (_ackedProtocolFeatures & (ulong)feature) != 0;

    private static ReadOnlySpan<byte> Bytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
}
