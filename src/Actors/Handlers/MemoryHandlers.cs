using System.Runtime.InteropServices;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Va;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Handlers;

/// <summary>
/// MEMORY (cmd 4), PROTOCOL.md §4.4 and §7.3. Every address names memory of this context (inside one of its
/// objects); allocations are mirrored inside the context's VA slice. amdgpu (libdrm) subtypes are validated and then
/// answered NOT_SUPPORTED: this backend has no libdrm import behind IKfd.
/// </summary>
public static class MemoryHandlers
{
    public const ulong Page = 4096, DeviceAlignment = 2UL << 20;
    public const int MaxSvmAttributes = 32, MaxSharedNodes = 32;

    public static readonly CcmdHandler?[] Table = Build();

    /// <summary>Subtypes that spawn a VaRegionActor (IContextChildren): they run on the context's actor, never inline.</summary>
    public static readonly uint[] ActorSubtypes = [(uint)MemoryType.Alloc, (uint)MemoryType.RegisterSharedHandle];

    private static CcmdHandler?[] Build()
    {
        var t = new CcmdHandler?[(int)MemoryType.AmdgpuBoSetMetadata + 1];
        t[(int)MemoryType.Alloc] = Alloc;
        t[(int)MemoryType.MapToGpuNodes] = MapToGpuNodes;
        t[(int)MemoryType.Free] = (HandlerContext cx, ref CcmdCall c) => Reject(cx, c, "FREE is not part of G-new; objects die by detach");
        t[(int)MemoryType.UnmapToGpu] = UnmapToGpu;
        t[(int)MemoryType.AvailMem] = AvailMem;
        t[(int)MemoryType.MapMemToGpu] = MapMemToGpu;
        t[(int)MemoryType.RegMemWithFlag] = RegMemWithFlag;
        t[(int)MemoryType.DeregMem] = DeregMem;
        t[(int)MemoryType.MapUserptr] = MapUserptr;
        t[(int)MemoryType.ExportDmabuf] = ExportDmabuf;
        t[(int)MemoryType.AmdgpuImport] = AmdgpuImport;
        t[(int)MemoryType.AmdgpuExport] = AmdgpuNeedsImport;
        t[(int)MemoryType.AmdgpuVaOp] = AmdgpuNeedsImport;
        t[(int)MemoryType.AmdgpuBoFree] = AmdgpuBoFree;
        t[(int)MemoryType.ShareMemory] = ShareMemory;
        t[(int)MemoryType.RegisterSharedHandle] = RegisterSharedHandle;
        t[(int)MemoryType.SetMemPolicy] = SetMemPolicy;
        t[(int)MemoryType.SvmGetAttr] = SvmGetAttr;
        t[(int)MemoryType.SvmSetAttr] = SvmSetAttr;
        t[(int)MemoryType.AmdgpuBoQueryInfo] = AmdgpuNeedsImport;
        t[(int)MemoryType.AmdgpuBoSetMetadata] = AmdgpuNeedsImport;
        return t;
    }

    private static int Reject(HandlerContext cx, in CcmdCall call, string reason, int ret = Errno.EINVAL)
    {
        cx.Log.Debug("MEMORY {Subtype}: {Reason} → {Ret}", (MemoryType)call.Subtype, reason, ret);
        return ret;
    }

    private static int VaAnswer(VaStatus st) => st switch
    {
        VaStatus.InvalidSize or VaStatus.InvalidAlignment or VaStatus.Foreign => Errno.EINVAL,
        _ => Errno.ENOMEM,
    };

    /// <summary>Host ("system") placement per the reference; everything else is device-local (2 MiB aligned, quota).</summary>
    private static bool IsHostPlacement(uint node, HsaMemFlags f) =>
        node == 0 || !f.Has(HsaMemFlags.NonPaged) || f.Has(HsaMemFlags.GTTAccess) || f.Has(HsaMemFlags.OnlyAddress);

    private static int Alloc(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.alloc_args;
        var flags = a.MemFlags;
        int bad = EventHandlers.BlobIdAnswer(cx.Objects.CheckNewBlobId(req.blob_id));
        if (bad != 0) return Reject(cx, call, $"blob_id {req.blob_id} unusable", bad);
        if (a.SizeInBytes == 0 || a.SizeInBytes % Page != 0) return Reject(cx, call, $"size 0x{a.SizeInBytes:x} not a positive page multiple");
        if (a.Alignment != 0 && (a.Alignment < Page || (a.Alignment & (a.Alignment - 1)) != 0))
            return Reject(cx, call, $"alignment 0x{a.Alignment:x} not a power of two >= page");
        if (!cx.IsNode(a.PreferredNode)) return Reject(cx, call, $"node {a.PreferredNode} unknown", (int)HsaStatus.InvalidNodeUnit);

        MemoryObject obj;
        if (flags.Has(HsaMemFlags.Scratch))
        {
            int gpu = cx.GpuIndex(a.PreferredNode);
            if (gpu < 0) return Reject(cx, call, $"scratch on non-GPU node {a.PreferredNode}", (int)HsaStatus.InvalidNodeUnit);
            var slice = cx.EnsureSlice();
            if (slice is null) return Reject(cx, call, "no VA slice", Errno.ENOMEM);
            var r = slice.AllocateScratch(gpu, a.SizeInBytes, 0);
            if (!r.IsOk) return Reject(cx, call, $"scratch range: {r.Status}", VaAnswer(r.Status));
            int st = AllocAt(cx, a.PreferredNode, a.SizeInBytes, flags, r.Address, () => slice.Free(r.Address));
            if (st != 0) return st;
            obj = new MemoryObject(r.Address, a.SizeInBytes, a.PreferredNode, flags, MemoryPlacement.Scratch, gpu);
        }
        else if (flags.Has(HsaMemFlags.NoAddress))
        {
            var f = new HsaMemFlags(flags.Value & ~HsaMemFlags.FixedAddress);
            ulong handle = 0;
            var st = cx.Kfd.AllocMemory(a.PreferredNode, a.SizeInBytes, f, ref handle);
            if (st != HsaStatus.Success) return (int)st;
            if (handle == 0) return Reject(cx, call, "KFD returned a null handle", (int)HsaStatus.Error);
            obj = new MemoryObject(handle, a.SizeInBytes, a.PreferredNode, f, MemoryPlacement.NoAddress);
        }
        else
        {
            bool device = !IsHostPlacement(a.PreferredNode, flags);
            if (device && cx.Settings.VramQuotaBytes != 0 && cx.State.VramInUse + a.SizeInBytes > cx.Settings.VramQuotaBytes)
                return Reject(cx, call, $"VRAM quota {cx.Settings.VramQuotaBytes} exceeded", (int)HsaStatus.NoMemory);
            var slice = cx.EnsureSlice();
            if (slice is null) return Reject(cx, call, "no VA slice", Errno.ENOMEM);
            var r = slice.Allocate(a.SizeInBytes, device ? DeviceAlignment : a.Alignment);
            if (!r.IsOk) return Reject(cx, call, $"VA slice: {r.Status}", VaAnswer(r.Status));
            int st = AllocAt(cx, a.PreferredNode, a.SizeInBytes, flags, r.Address, () => slice.Free(r.Address));
            if (st != 0) return st;
            obj = new MemoryObject(r.Address, a.SizeInBytes, a.PreferredNode, flags, MemoryPlacement.Slice)
            {
                QuotaBytes = device ? a.SizeInBytes : 0,
            };
            cx.State.VramInUse += obj.QuotaBytes;
        }
        cx.Objects.Park(req.blob_id, obj);
        cx.Children.SpawnRegion(obj);
        call.Rsp<CcmdMemoryRsp>().memory_handle = obj.Address;
        return 0;
    }

    /// <summary>FixedAddress allocation at exactly <paramref name="va"/>; gives the VA back on any failure.</summary>
    private static int AllocAt(HandlerContext cx, uint node, ulong size, HsaMemFlags flags, ulong va, Func<VaResult> giveBack)
    {
        var f = new HsaMemFlags(flags.Value | HsaMemFlags.FixedAddress);
        ulong addr = va;
        var st = cx.Kfd.AllocMemory(node, size, f, ref addr);
        if (st != HsaStatus.Success)
        {
            giveBack();
            return (int)st;
        }
        if (addr != va)
        {
            // The KFD must honour the fixed address; anything else would break mirroring (§4.4 step 7).
            cx.Log.Warning("KFD placed a FixedAddress allocation at 0x{Got:x} instead of 0x{Want:x}", addr, va);
            cx.Kfd.FreeMemory(addr, size);
            giveBack();
            return Errno.ENOMEM;
        }
        return 0;
    }

    /// <summary>The memory object (HOST_MEM / QUEUE_MEM / USERPTR) of this context wholly containing the range.</summary>
    private static KfdObject? Owner(HandlerContext cx, ulong address, ulong size) => cx.Objects.FindMemory(address, size);

    private static void MarkMapped(KfdObject o, bool mapped)
    {
        if (o is MemoryObject m) m.GpuMapped = mapped;
        else if (o is UserptrObject u) u.GpuMapped = mapped;
    }

    private static bool TryNodes(HandlerContext cx, in CcmdCall call, ulong count, int payloadOffset, out ReadOnlySpan<uint> nodes, out string? reason)
    {
        nodes = default;
        reason = null;
        if (count == 0 || count > cx.NumNodes) { reason = $"NumberOfNodes {count} not in 1..{cx.NumNodes}"; return false; }
        var payload = call.Payload(payloadOffset);
        if ((ulong)payload.Length < count * 4) { reason = $"payload {payload.Length} bytes < {count} node ids"; return false; }
        nodes = MemoryMarshal.Cast<byte, uint>(payload[..(int)(count * 4)]);
        foreach (var n in nodes)
            if (!cx.IsNode(n)) { reason = $"node {n} unknown"; return false; }
        return true;
    }

    private static int MapToGpuNodes(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdMemoryReq>().map_to_GPU_nodes_args;
        var owner = Owner(cx, a.MemoryAddress, a.MemorySizeInBytes);
        if (owner is null) return Reject(cx, call, $"0x{a.MemoryAddress:x}+0x{a.MemorySizeInBytes:x} not inside memory of this context");
        if (!TryNodes(cx, call, a.NumberOfNodes, CcmdMemoryReq.PayloadOffset, out var nodes, out var why)) return Reject(cx, call, why!);
        var st = cx.Kfd.MapMemoryToGpuNodes(a.MemoryAddress, a.MemorySizeInBytes, out ulong alt, a.pad[0], nodes);
        if (st != HsaStatus.Success) return (int)st;
        MarkMapped(owner, true);
        call.Rsp<CcmdMemoryRsp>().alternate_vagpu = alt;
        return 0;
    }

    private static int UnmapToGpu(HandlerContext cx, ref CcmdCall call)
    {
        ulong va = call.Read<CcmdMemoryReq>().MemoryAddress;
        var owner = Owner(cx, va, 0);
        if (owner is null) return Reject(cx, call, $"0x{va:x} not inside memory of this context");
        var st = cx.Kfd.UnmapMemoryToGpu(va);
        if (st == HsaStatus.Success) MarkMapped(owner, false);
        return (int)st;
    }

    private static int AvailMem(HandlerContext cx, ref CcmdCall call)
    {
        uint node = call.Read<CcmdMemoryReq>().Node;
        if (!cx.IsNode(node)) return Reject(cx, call, $"node {node} unknown", (int)HsaStatus.InvalidNodeUnit);
        var st = cx.Kfd.AvailableMemory(node, out ulong bytes);
        call.Rsp<CcmdMemoryRsp>().available_bytes = bytes;
        return (int)st;
    }

    private static int MapMemToGpu(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.map_to_GPU_args;
        var owner = Owner(cx, a.MemoryAddress, a.MemorySizeInBytes);
        if (owner is null) return Reject(cx, call, $"0x{a.MemoryAddress:x}+0x{a.MemorySizeInBytes:x} not inside memory of this context");
        bool createBo = a.need_create_bo != 0;
        if (createBo)
        {
            int bad = EventHandlers.BlobIdAnswer(cx.Objects.CheckNewBlobId(req.blob_id));
            if (bad != 0) return Reject(cx, call, $"blob_id {req.blob_id} unusable", bad);
        }
        var st = cx.Kfd.MapMemoryToGpu(a.MemoryAddress, a.MemorySizeInBytes, out ulong alt);
        if (st != HsaStatus.Success) return (int)st;
        // With need_create_bo the SCRATCH_MAP_MEM object owns this mapping and undoes it on release.
        if (createBo) cx.Objects.Park(req.blob_id, new ScratchMapObject(a.MemoryAddress, a.MemorySizeInBytes));
        else MarkMapped(owner, true);
        call.Rsp<CcmdMemoryRsp>().alternate_vagpu = alt;
        return 0;
    }

    private static int RegMemWithFlag(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.reg_mem_with_flag;
        var u = cx.Objects.Bound<UserptrObject>(req.res_id);
        if (u is null) return Reject(cx, call, $"res_id {req.res_id} is not a userptr of this context");
        if (u.Registered) return Reject(cx, call, "userptr already registered", (int)HsaStatus.MemoryAlreadyRegistered);
        if (a.MemorySizeInBytes > u.Size) return Reject(cx, call, $"size 0x{a.MemorySizeInBytes:x} > userptr size 0x{u.Size:x}");
        var st = cx.Kfd.RegisterMemoryWithFlags(u.Address, u.Size, a.MemFlags);
        if (st == HsaStatus.Success) u.Registered = true;
        return (int)st;
    }

    private static int DeregMem(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var d = cx.Objects.Bound<DmaBufObject>(req.res_id);
        if (d is null) return Reject(cx, call, $"res_id {req.res_id} is not a DMA_BUF of this context");
        var st = req.MemoryAddress != 0 ? cx.Kfd.DeregisterMemory(req.MemoryAddress) : HsaStatus.Success;
        cx.Objects.Unbind(d.ResId);
        cx.Releaser.ReleasePlain(d);
        return (int)st;
    }

    private static int MapUserptr(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdMemoryReq>().res_id;
        if (!cx.Objects.TryGetBound(resId, out var o) || o is not (UserptrObject or MemoryObject { Placement: not MemoryPlacement.NoAddress }))
            return Reject(cx, call, $"res_id {resId} is not memory of this context");
        ref var rsp = ref call.Rsp<CcmdMemoryRsp>();
        rsp.map_userptr_rsp.userptr_handle = o.Address;
        rsp.map_userptr_rsp.npfns = (uint)Math.Min(o.Size, uint.MaxValue);
        return 0;
    }

    private static int ExportDmabuf(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdMemoryReq>().res_id;
        var m = cx.Objects.Bound<MemoryObject>(resId);
        if (m is null || m.Placement == MemoryPlacement.NoAddress) return Reject(cx, call, $"res_id {resId} is not addressable memory of this context");
        if (m.ExportFd is null)
        {
            var st = cx.Kfd.ExportDmaBuf(m.Address, m.Size, out var fd, out ulong offset);
            if (st != HsaStatus.Success) return (int)st;
            m.ExportFd = fd;
            m.ExportOffset = offset;
        }
        ref var rsp = ref call.Rsp<CcmdMemoryRsp>();
        rsp.export_dmabuf_rsp.dmabuf_fd = (long)m.Id; // opaque: never a host fd number
        rsp.export_dmabuf_rsp.offset = m.ExportOffset;
        return 0;
    }

    private static int AmdgpuImport(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.amdgpu_import_args;
        if (!QueryHandlers.IsIssuedDeviceHandle(cx, (ulong)a.dev)) return Reject(cx, call, "dev is not a device handle this context was given");
        if (a.type is not (1 or 2)) return Reject(cx, call, $"handle type {a.type} not supported");
        var m = cx.Objects.Bound<MemoryObject>(req.res_id);
        if (m is null || m.ExportFd is null) return Reject(cx, call, $"res_id {req.res_id} is not exported memory of this context");
        return Reject(cx, call, "no libdrm import behind this backend", (int)HsaStatus.NotSupported);
    }

    private static int AmdgpuNeedsImport(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdMemoryReq>().res_id;
        if (cx.Objects.Bound<MemoryObject>(resId) is null) return Reject(cx, call, $"res_id {resId} is not memory of this context");
        return Reject(cx, call, "no libdrm import behind this backend", (int)HsaStatus.NotSupported);
    }

    private static int AmdgpuBoFree(HandlerContext cx, ref CcmdCall call)
    {
        uint resId = call.Read<CcmdMemoryReq>().res_id;
        // No import can exist here, so there is nothing to free (the reference answers 0 for a bo without import).
        return cx.Objects.Bound<MemoryObject>(resId) is null ? Reject(cx, call, $"res_id {resId} is not memory of this context") : 0;
    }

    private static int ShareMemory(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdMemoryReq>().share_memory_args;
        if (Owner(cx, a.MemoryAddress, a.MemorySizeInBytes) is not MemoryObject)
            return Reject(cx, call, $"0x{a.MemoryAddress:x}+0x{a.MemorySizeInBytes:x} not inside an allocation of this context");
        var st = cx.Kfd.ShareMemory(a.MemoryAddress, a.MemorySizeInBytes, out var handle);
        call.Rsp<CcmdMemoryRsp>().share_memory_rsp.SharedMemoryHandle = handle;
        return (int)st;
    }

    private static int RegisterSharedHandle(HandlerContext cx, ref CcmdCall call)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.register_shared_handle_args;
        if (a.NumberOfNodes > MaxSharedNodes) return Reject(cx, call, $"NumberOfNodes {a.NumberOfNodes} > {MaxSharedNodes}", (int)HsaStatus.InvalidParameter);
        int bad = EventHandlers.BlobIdAnswer(cx.Objects.CheckNewBlobId(req.blob_id));
        if (bad != 0) return Reject(cx, call, $"blob_id {req.blob_id} unusable", bad);
        if (!TryNodes(cx, call, a.NumberOfNodes, CcmdMemoryReq.PayloadOffset, out var nodes, out var why)) return Reject(cx, call, why!);
        var slice = cx.EnsureSlice();
        if (slice is null) return Reject(cx, call, "no VA slice", Errno.ENOMEM);
        // The import is placed inside this context's slice (mirrored VA); a backend that places it elsewhere is refused.
        var st = cx.Kfd.RegisterSharedHandleToNodes(a.SharedMemoryHandle, nodes,
            len => slice.Allocate(len, 0) is { IsOk: true } r ? r.Address : 0, out ulong va, out ulong size);
        if (st != HsaStatus.Success) return (int)st;
        if (!slice.Contains(va, size))
        {
            cx.Kfd.FreeMemory(va, size);
            return Reject(cx, call, $"import placed at 0x{va:x} outside the context's slice", Errno.ENOMEM);
        }
        var obj = new MemoryObject(va, size, nodes[0], new HsaMemFlags(HsaMemFlags.HostAccess), MemoryPlacement.SharedImport);
        // Park it (the reference does not, so the guest's CREATE_BLOB fails there, §4.4 row 15).
        cx.Objects.Park(req.blob_id, obj);
        cx.Children.SpawnRegion(obj);
        ref var rsp = ref call.Rsp<CcmdMemoryRsp>();
        rsp.register_shared_handle_rsp.memory_handle = va;
        rsp.register_shared_handle_rsp.size = size;
        return 0;
    }

    private static int SetMemPolicy(HandlerContext cx, ref CcmdCall call)
    {
        var a = call.Read<CcmdMemoryReq>().set_mem_policy_args;
        if (!cx.IsNode(a.Node)) return Reject(cx, call, $"node {a.Node} unknown", (int)HsaStatus.InvalidNodeUnit);
        // ROCr passes NULL / 0; an address is checked only when a range is given (§7.3).
        if (a.MemorySizeInBytes > 0 && Owner(cx, a.MemoryAddressAlternate, a.MemorySizeInBytes) is null)
            return Reject(cx, call, $"0x{a.MemoryAddressAlternate:x}+0x{a.MemorySizeInBytes:x} not inside memory of this context");
        return (int)cx.Kfd.SetMemoryPolicy(a.Node, a.DefaultPolicy, a.AlternatePolicy, a.MemoryAddressAlternate, a.MemorySizeInBytes);
    }

    /// <summary>SVM range: the res_id object, narrowed to (start_addr, size) when the guest names a range inside it.</summary>
    private static bool TrySvmRange(HandlerContext cx, in CcmdCall call, out ulong start, out ulong size, out string? reason)
    {
        var req = call.Read<CcmdMemoryReq>();
        var a = req.svm_attr_args;
        start = size = 0;
        reason = null;
        if (!cx.Objects.TryGetBound(req.res_id, out var o) || o is not (UserptrObject or MemoryObject { Placement: not MemoryPlacement.NoAddress }))
        {
            reason = $"res_id {req.res_id} is not memory of this context";
            return false;
        }
        if (a.nattr == 0 || a.nattr > MaxSvmAttributes) { reason = $"nattr {a.nattr} not in 1..{MaxSvmAttributes}"; return false; }
        (start, size) = a.size != 0 && o.Covers(a.start_addr, a.size) ? (a.start_addr, a.size) : (o.Address, o.Size);
        return true;
    }

    private static int SvmGetAttr(HandlerContext cx, ref CcmdCall call)
    {
        if (!TrySvmRange(cx, call, out ulong start, out ulong size, out var why)) return Reject(cx, call, why!);
        uint n = call.Read<CcmdMemoryReq>().svm_attr_args.nattr;
        if (!call.TryResponsePayload(CcmdMemoryRsp.PayloadOffset, n * 8L, out var payload))
            return Reject(cx, call, "attributes do not fit the guest's reservation");
        // Attribute types come from the request payload when the guest sends one (G-new does not: zeros).
        var input = call.Payload(CcmdMemoryReq.PayloadOffset);
        input[..Math.Min(input.Length, payload.Length)].CopyTo(payload);
        return (int)cx.Kfd.SvmGetAttr(start, size, MemoryMarshal.Cast<byte, ulong>(payload));
    }

    private static int SvmSetAttr(HandlerContext cx, ref CcmdCall call)
    {
        if (!TrySvmRange(cx, call, out ulong start, out ulong size, out var why)) return Reject(cx, call, why!);
        uint n = call.Read<CcmdMemoryReq>().svm_attr_args.nattr;
        var input = call.Payload(CcmdMemoryReq.PayloadOffset);
        if (input.Length < n * 8) return Reject(cx, call, $"payload {input.Length} bytes < {n} attributes");
        return (int)cx.Kfd.SvmSetAttr(start, size, MemoryMarshal.Cast<byte, ulong>(input[..(int)(n * 8)]));
    }
}
