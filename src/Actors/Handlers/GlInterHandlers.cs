using System.Runtime.InteropServices;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Handlers;

/// <summary>GL_INTER (cmd 6), PROTOCOL.md §4.6: only a DMA_BUF object of this context with its own fd is registered.</summary>
public static class GlInterHandlers
{
    public static readonly CcmdHandler?[] Table = [RegGhdToNodes];

    private static int Reject(HandlerContext cx, string reason, int ret)
    {
        cx.Log.Debug("GL_INTER REG_GHD_TO_NODES: {Reason} → {Ret}", reason, ret);
        return ret;
    }

    private static int RegGhdToNodes(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdGlInterReq>().reg_ghd_to_nodes;
        var d = cx.Objects.Bound<DmaBufObject>(a.res_handle);
        if (d is null || d.Fd.IsInvalid || d.Fd.IsClosed)
            return Reject(cx, $"res_handle {a.res_handle} is not a DMA_BUF of this context", (int)HsaStatus.InvalidHandle);
        ulong n = a.NumberOfNodes;
        if (n == 0 || n > cx.NumNodes) return Reject(cx, $"NumberOfNodes {n} not in 1..{cx.NumNodes}", Errno.EINVAL);
        var payload = call.Payload(CcmdGlInterReq.PayloadOffset);
        if ((ulong)payload.Length < n * 4) return Reject(cx, $"payload {payload.Length} bytes < {n} node ids", Errno.EINVAL);
        var nodes = MemoryMarshal.Cast<byte, uint>(payload[..(int)(n * 4)]);
        foreach (var node in nodes)
            if (!cx.IsNode(node)) return Reject(cx, $"node {node} unknown", Errno.EINVAL);
        // Metadata lands directly in the response payload, bounded by the guest's reservation (§3.4).
        var room = call.Response[CcmdGlInterRsp.PayloadOffset..];
        var st = cx.Kfd.RegisterGraphicsHandleToNodes(d.Fd, nodes, a.flag, out var info, room);
        if (st != HsaStatus.Success) return (int)st;
        uint meta = (uint)Math.Min(info.MetadataSizeInBytes, (uint)room.Length);
        info.Metadata = 0; // host pointer
        info.MetadataSizeInBytes = meta;
        call.Rsp<CcmdGlInterRsp>().info = info;
        call.ResponseLength = CcmdGlInterRsp.PayloadOffset + (int)meta;
        return 0;
    }
}
