using System.Runtime.InteropServices;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Handlers;

/// <summary>QUERY_INFO (cmd 2), PROTOCOL.md §4.2 and §7.3. Results go to the 424-byte response; arrays to payload @424.</summary>
public static class QueryHandlers
{
    public const int MaxBanks = 128, MaxCaches = 512, MaxIoLinks = 512, MaxTileConfigs = 128, MaxDrmPayload = 128;

    /// <summary>Tag mixed into an issued device handle to make the opaque "DRM fd" id (never a host fd number).</summary>
    public const ulong DrmFdTag = 0x4644_0000_0000_0000;

    public static readonly CcmdHandler?[] Table = Build();

    private static CcmdHandler?[] Build()
    {
        var t = new CcmdHandler?[(int)QueryType.SpmSetDstBuffer + 1];
        t[(int)QueryType.GpuInfo] = GpuInfo;
        t[(int)QueryType.OpenKfd] = OpenKfd;
        t[(int)QueryType.GetVer] = GetVer;
        t[(int)QueryType.RelSysProp] = (HandlerContext _, ref CcmdCall _) => 0;
        t[(int)QueryType.GetSysProp] = GetSysProp;
        t[(int)QueryType.GetNodeProp] = GetNodeProp;
        t[(int)QueryType.GetXnackMode] = GetXnackMode;
        t[(int)QueryType.RunTimeEnable] = RunTimeEnable;
        t[(int)QueryType.RunTimeDisable] = RunTimeDisable;
        t[(int)QueryType.GetNodMemProp] = GetNodMemProp;
        t[(int)QueryType.GetNodCacheProp] = GetNodCacheProp;
        t[(int)QueryType.GetNodIoLinkProp] = GetNodIoLinkProp;
        t[(int)QueryType.GetClockCounters] = GetClockCounters;
        t[(int)QueryType.PointerInfo] = PointerInfo;
        t[(int)QueryType.TileConfig] = TileConfig;
        t[(int)QueryType.NanoTime] = NanoTime;
        t[(int)QueryType.GetRuntimeCaps] = GetRuntimeCaps;
        t[(int)QueryType.AmdgpuDeviceHandle] = AmdgpuDeviceHandle;
        t[(int)QueryType.DrmCmdWriteRead] = DrmCmdWriteRead;
        t[(int)QueryType.SetXnackMode] = SetXnackMode;
        t[(int)QueryType.SpmAcquire] = SpmAcquire;
        t[(int)QueryType.SpmRelease] = SpmRelease;
        t[(int)QueryType.SpmSetDstBuffer] = SpmSetDstBuffer;
        return t;
    }

    private static int Reject(HandlerContext cx, in CcmdCall call, string reason, int ret = Errno.EINVAL)
    {
        cx.Log.Debug("QUERY {Subtype}: {Reason} → {Ret}", (QueryType)call.Subtype, reason, ret);
        return ret;
    }

    private static int GpuInfo(HandlerContext cx, ref CcmdCall call)
    {
        var gpus = cx.GpuNodes;
        if (gpus.Length == 0) return Reject(cx, call, "no GPU node");
        var st = cx.Kfd.GetAmdgpuGpuInfo(gpus[0], out var info);
        call.Rsp<CcmdQueryInfoRsp>().gpu_info = info;
        return (int)st;
    }

    private static int OpenKfd(HandlerContext cx, ref CcmdCall call)
    {
        // Repeated OPEN_KFD answers the same area: the slice is reserved once per context (§6.5).
        var slice = cx.EnsureSlice();
        if (slice is null) return Reject(cx, call, "no free VA slice", (int)HsaStatus.Error);
        ref var rsp = ref call.Rsp<CcmdQueryInfoRsp>();
        rsp.open_kfd_rsp.vm_start = slice.Start;
        rsp.open_kfd_rsp.vm_size = slice.Size;
        return 0;
    }

    private static int GetVer(HandlerContext cx, ref CcmdCall call)
    {
        var st = cx.Kfd.GetVersion(out var v);
        call.Rsp<CcmdQueryInfoRsp>().kfd_version = v;
        return (int)st;
    }

    private static int GetSysProp(HandlerContext cx, ref CcmdCall call)
    {
        var st = cx.Kfd.AcquireSystemProperties(out var p);
        call.Rsp<CcmdQueryInfoRsp>().sys_props = p;
        return (int)st;
    }

    private static int GetNodeProp(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdQueryInfoReq>().NodeID;
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        var st = cx.Kfd.GetNodeProperties(node, out var p);
        call.Rsp<CcmdQueryInfoRsp>().node_props = p;
        return (int)st;
    }

    private static int GetXnackMode(HandlerContext cx, ref CcmdCall call)
    {
        var st = cx.Kfd.GetXnackMode(out int mode);
        call.Rsp<CcmdQueryInfoRsp>().xnack_mode = mode;
        return (int)st;
    }

    private static int RunTimeEnable(HandlerContext cx, ref CcmdCall call)
    {
        bool ttmp = call.Read<CcmdQueryInfoReq>().run_time_enable_args.setupTtmp != 0;
        var kfd = cx.Kfd;
        return (int)cx.Services.Tenants.RuntimeEnable(cx.State.Key, () => kfd.RuntimeEnable(ttmp));
    }

    private static int RunTimeDisable(HandlerContext cx, ref CcmdCall call) =>
        (int)cx.Services.Tenants.RuntimeDisable(cx.State.Key, cx.Kfd.RuntimeDisable);

    private static int SetXnackMode(HandlerContext cx, ref CcmdCall call)
    {
        int mode = call.Read<CcmdQueryInfoReq>().xnack_mode;
        var kfd = cx.Kfd;
        long key = cx.State.Key;
        var tenants = cx.Services.Tenants;
        // Process-wide state: only the sole context may change it; others may only confirm the current mode.
        var st = tenants.Locked(() =>
        {
            if (tenants.IsSole(key)) return kfd.SetXnackMode(mode);
            var g = kfd.GetXnackMode(out int current);
            if (g != HsaStatus.Success) return g;
            return current == mode ? HsaStatus.Success : HsaStatus.NotSupported;
        });
        if (st == HsaStatus.NotSupported)
            cx.Log.Information("SET_XNACK_MODE {Mode} refused: other contexts share the KFD process", mode);
        return (int)st;
    }

    private static int ArrayQuery<T>(HandlerContext cx, ref CcmdCall call, uint node, uint count, int max, Func<IKfd, uint, Span<T>, HsaStatus> query)
        where T : unmanaged
    {
        if (count > max) return Reject(cx, call, $"count {count} > {max}");
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        int size = Marshal.SizeOf<T>();
        if (!call.TryResponsePayload(CcmdQueryInfoRsp.PayloadOffset, (long)count * size, out var payload))
            return Reject(cx, call, $"{count} entries do not fit the guest's reservation ({call.GuestSlotLength}) or the response area");
        return (int)query(cx.Kfd, node, MemoryMarshal.Cast<byte, T>(payload));
    }

    private static int GetNodMemProp(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().node_mem_prop_args;
        return ArrayQuery<HsaMemoryProperties>(cx, ref call, a.NodeId, a.NumBanks, MaxBanks, (k, n, s) => k.GetNodeMemoryProperties(n, s));
    }

    private static int GetNodCacheProp(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().node_cache_prop_args;
        uint proc = a.ProcessorId;
        return ArrayQuery<HsaCacheProperties>(cx, ref call, a.NodeId, a.NumCaches, MaxCaches, (k, n, s) => k.GetNodeCacheProperties(n, proc, s));
    }

    private static int GetNodIoLinkProp(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().node_io_link_args;
        return ArrayQuery<HsaIoLinkProperties>(cx, ref call, a.NodeId, a.NumIoLinks, MaxIoLinks, (k, n, s) => k.GetNodeIoLinkProperties(n, s));
    }

    private static int GetClockCounters(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdQueryInfoReq>().NodeID;
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        var st = cx.Kfd.GetClockCounters(node, out var c);
        call.Rsp<CcmdQueryInfoRsp>().clock_counters = c;
        return (int)st;
    }

    private static int PointerInfo(HandlerContext cx, ref CcmdCall call)
    {
        ulong ptr = call.Read<CcmdQueryInfoReq>().pointer;
        if (!cx.InContextVa(ptr, 1) && cx.Objects.FindMemory(ptr, 1) is not Objects.UserptrObject)
            return Reject(cx, call, $"pointer 0x{ptr:x} outside the context's VA and its userptrs");
        Span<uint> mapped = stackalloc uint[64];
        var st = cx.Kfd.QueryPointerInfo(ptr, out var info, mapped);
        // Host pointers never reach the guest: the arrays travel as payload, CPUAddress only if mirrored here.
        info.RegisteredNodes = 0;
        info.MappedNodes = 0;
        info.UserData = 0;
        if (!cx.InContextVa(info.CPUAddress, 1) && cx.Objects.FindMemory(info.CPUAddress, 1) is null) info.CPUAddress = 0;
        call.Rsp<CcmdQueryInfoRsp>().ptr_info = info;
        if (st == HsaStatus.Success)
        {
            // Truncate to the guest's reservation (G-new keeps at most 3), never fail for it (§3.4).
            int n = (int)Math.Min(info.NMappedNodes, (uint)mapped.Length);
            int room = (call.Response.Length - CcmdQueryInfoRsp.PayloadOffset) / 4;
            n = Math.Clamp(Math.Min(n, room), 0, mapped.Length);
            if (n > 0 && call.TryResponsePayload(CcmdQueryInfoRsp.PayloadOffset, n * 4, out var payload))
                MemoryMarshal.AsBytes(mapped[..n]).CopyTo(payload);
        }
        return (int)st;
    }

    private static int TileConfig(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().tile_config_args;
        uint t = a.config.NumTileConfigs, m = a.config.NumMacroTileConfigs;
        if (t > MaxTileConfigs || m > MaxTileConfigs) return Reject(cx, call, $"tile counts {t}/{m} > {MaxTileConfigs}");
        if (!cx.IsNode(a.NodeId)) return Reject(cx, call, $"node {a.NodeId} unknown", (int)HsaStatus.InvalidNodeUnit);
        if (!call.TryResponsePayload(CcmdQueryInfoRsp.PayloadOffset, 4L * (t + m), out var payload))
            return Reject(cx, call, "tile arrays do not fit the guest's reservation");
        var words = MemoryMarshal.Cast<byte, uint>(payload);
        var config = a.config;
        var st = cx.Kfd.GetTileConfig(a.NodeId, ref config, words[..(int)t], words[(int)t..]);
        // The two pointer members carry the guest's own addresses back (§4.2).
        config.TileConfig = a.config.TileConfig;
        config.MacroTileConfig = a.config.MacroTileConfig;
        call.Rsp<CcmdQueryInfoRsp>().tile_config_rsp = config;
        return (int)st;
    }

    private static int NanoTime(HandlerContext cx, ref CcmdCall call)
    {
        call.Rsp<CcmdQueryInfoRsp>().nano_time_rsp.nano_time = cx.Services.Clock.MonotonicNanoseconds;
        return 0;
    }

    private static int GetRuntimeCaps(HandlerContext cx, ref CcmdCall call)
    {
        var st = cx.Kfd.GetRuntimeCapabilities(out uint caps);
        call.Rsp<CcmdQueryInfoRsp>().caps = caps;
        return (int)st;
    }

    private static int AmdgpuDeviceHandle(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdQueryInfoReq>().NodeID;
        if (cx.GpuIndex(node) < 0) return Reject(cx, call, $"node {node} is not a GPU node", (int)HsaStatus.InvalidNodeUnit);
        if (!cx.State.DeviceHandles.TryGetValue(node, out ulong handle))
        {
            handle = OpaqueIds.Next();
            cx.State.DeviceHandles[node] = handle;
        }
        ref var rsp = ref call.Rsp<CcmdQueryInfoRsp>();
        rsp.device_handle_rsp.amdgpu_device_handle = handle;
        rsp.device_handle_rsp.fd = handle ^ DrmFdTag;
        return 0;
    }

    /// <summary>True if <paramref name="handle"/> is a device handle this context was given.</summary>
    public static bool IsIssuedDeviceHandle(HandlerContext cx, ulong handle)
    {
        foreach (var h in cx.State.DeviceHandles.Values)
            if (h == handle) return true;
        return false;
    }

    private static int DrmCmdWriteRead(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().drm_cmd_write_read_args;
        if (a.size > MaxDrmPayload) return Reject(cx, call, $"size {a.size} > {MaxDrmPayload}");
        if (call.Length < CcmdQueryInfoReq.PayloadOffset + (int)a.size) return Reject(cx, call, $"len {call.Length} does not cover 128 + {a.size}");
        if (!IsIssuedDeviceHandle(cx, a.fd ^ DrmFdTag)) return Reject(cx, call, "fd is not an id this context was given");
        if (!cx.Settings.DrmCommandAllowlist.Contains(a.drmCommandIndex))
            return Reject(cx, call, $"DRM command index {a.drmCommandIndex} not allowlisted");
        // IKfd carries no DRM pass-through: nothing on this host backs the ioctl.
        return Reject(cx, call, "no DRM pass-through in this backend", (int)HsaStatus.NotSupported);
    }

    private static int SpmAcquire(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdQueryInfoReq>().NodeID;
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        return (int)cx.Kfd.SpmAcquire(node);
    }

    private static int SpmRelease(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdQueryInfoReq>().NodeID;
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        return (int)cx.Kfd.SpmRelease(node);
    }

    private static int SpmSetDstBuffer(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdQueryInfoReq>().spm_set_dst_buffer_args;
        if (!cx.IsNode(a.PreferredNode)) return Reject(cx, call, $"node {a.PreferredNode} unknown", (int)HsaStatus.InvalidNodeUnit);
        uint timeout = a.timeout;
        HsaStatus st;
        uint copied;
        bool loss;
        if (a.res_id != 0)
        {
            var obj = cx.Objects.Bound<Objects.MemoryObject>(a.res_id);
            if (obj is null || obj.Placement != Objects.MemoryPlacement.Slice) return Reject(cx, call, $"res_id {a.res_id} is not memory of this context");
            if (a.SizeInBytes > obj.Size) return Reject(cx, call, $"SizeInBytes {a.SizeInBytes} > object size {obj.Size}");
            st = cx.Kfd.SpmSetDestBuffer(a.PreferredNode, a.SizeInBytes, ref timeout, out copied, obj.Address, out loss);
        }
        else
        {
            // No blob: the data travels back as payload @424, produced into the (pinned) private response buffer.
            if (!call.TryResponsePayload(CcmdQueryInfoRsp.PayloadOffset, a.SizeInBytes, out _))
                return Reject(cx, call, $"SizeInBytes {a.SizeInBytes} does not fit the reservation / response area");
            var pin = GCHandle.Alloc(cx.State.ResponseBuffer, GCHandleType.Pinned);
            try
            {
                ulong dest = (ulong)pin.AddrOfPinnedObject() + CcmdQueryInfoRsp.PayloadOffset;
                st = cx.Kfd.SpmSetDestBuffer(a.PreferredNode, a.SizeInBytes, ref timeout, out copied, dest, out loss);
            }
            finally
            {
                pin.Free();
            }
        }
        ref var rsp = ref call.Rsp<CcmdQueryInfoRsp>();
        rsp.spm_set_dst_buffer_rsp.SizeCopied = copied;
        rsp.spm_set_dst_buffer_rsp.timeout = timeout;
        rsp.spm_set_dst_buffer_rsp.IsTileDataLoss = loss ? (byte)1 : (byte)0;
        return (int)st;
    }
}
