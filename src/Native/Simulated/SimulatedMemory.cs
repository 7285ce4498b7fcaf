using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Serilog;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// The memory half of the simulated KFD process: allocations with real memfd-backed pages at the requested VA,
/// per-bank accounting, GPU map bookkeeping, userptr registration, IPC share/import and dma-buf export.
/// Status codes follow the Linux thunk (fmm.c / memory.c): unknown objects → INVALID_PARAMETER or
/// MEMORY_NOT_REGISTERED (free/deregister), exhausted banks → NO_MEMORY, bad nodes → INVALID_NODE_UNIT.
/// </summary>
internal sealed class SimulatedMemory : IDisposable
{
    private const uint ShareMagic = 0x4446_4B56; // "VKFD"
    private const ulong HandleBase = 0xF000_0000_0000_0000; // NoAddress handles: never a canonical user VA

    private readonly object _lock = new();
    private readonly SimulatedNode[] _nodes;
    private readonly VaManager? _va;
    private readonly KfdCounters _counters;
    private readonly ILogger _log;
    private readonly ulong _page = (ulong)Environment.SystemPageSize;
    private readonly RangeIndex<SimulatedMemoryObject> _byAddress = new();
    private readonly Dictionary<ulong, SimulatedMemoryObject> _byHandle = new();
    private readonly Dictionary<ulong, SimulatedMemoryObject> _shared = new();
    private readonly ulong[] _used;
    private ulong _nextHandle, _nextShareId;
    private bool _disposed;

    public SimulatedMemory(SimulatedNode[] nodes, VaManager? va, KfdCounters counters, ILogger log)
    {
        _nodes = nodes;
        _va = va;
        _counters = counters;
        _log = log;
        _used = new ulong[nodes.Length];
    }

    public ulong Available(uint node)
    {
        lock (_lock) return _nodes[node].Banks[0].SizeInBytes - _used[node];
    }

    public HsaStatus Alloc(uint node, ulong size, HsaMemFlags flags, ref ulong address)
    {
        if (node >= _nodes.Length) return HsaStatus.InvalidNodeUnit;
        if (size == 0 || size % _page != 0) return HsaStatus.InvalidParameter;
        var fixedAddress = flags.Has(HsaMemFlags.FixedAddress);
        var noAddress = flags.Has(HsaMemFlags.NoAddress);
        var scratch = flags.Has(HsaMemFlags.Scratch);
        var onlyAddress = flags.Has(HsaMemFlags.OnlyAddress);
        if (fixedAddress && noAddress) return HsaStatus.InvalidParameter;
        if (scratch && !_nodes[node].IsGpu) return HsaStatus.InvalidNodeUnit;
        if (scratch && !fixedAddress) return HsaStatus.InvalidParameter; // scratch lives in the reserved scratch ranges
        if (fixedAddress && (address == 0 || address % _page != 0)) return HsaStatus.InvalidParameter;
        // Only the context slices and scratch ranges: the doorbell window belongs to the KFD's own pages.
        if (fixedAddress && (_va is null || !(_va.SliceArea.Contains(address, size) || _va.ScratchArea.Contains(address, size))))
        {
            _log.Debug("AllocMemory FixedAddress {Address:x}+{Size:x} outside the slices and scratch ranges", address, size);
            return HsaStatus.InvalidParameter;
        }

        // Placement as amdkfd: VRAM for NonPaged on a GPU node unless GTT is asked for; system memory otherwise.
        var vram = _nodes[node].IsGpu && (flags.Has(HsaMemFlags.NonPaged) || scratch) && !flags.Has(HsaMemFlags.GTTAccess);
        var bank = vram ? node : 0u;
        var charge = onlyAddress ? 0UL : size;

        lock (_lock)
        {
            if (_disposed) return HsaStatus.KernelIoChannelNotOpened;
            if (charge > _nodes[bank].Banks[0].SizeInBytes - _used[bank]) return HsaStatus.NoMemory;
            if (fixedAddress && _byAddress.Overlaps(address, size)) return HsaStatus.NoMemory;

            Memfd? file = null;
            MappedRegion? cpu = null;
            VaBacking? backing = null;
            try
            {
                var needsPages = !scratch && !onlyAddress;
                if (needsPages) file = Memfd.Create($"vhsakmt-kfd-{node}", size);
                ulong va;
                if (noAddress)
                {
                    va = HandleBase + (++_nextHandle) * _page;
                }
                else if (fixedAddress)
                {
                    if (needsPages)
                    {
                        backing = _va!.TryBack(address, size);
                        if (backing is null) { file?.Dispose(); return HsaStatus.NoMemory; }
                        var b = backing;
                        cpu = Mmap.MapSharedFixed(file!, 0, address, size, (_, _) => _va.Unback(b));
                    }
                    va = address;
                }
                else
                {
                    cpu = needsPages ? Mmap.MapShared(file!, 0, size) : Mmap.ReserveAnywhere(size);
                    va = cpu.Address;
                }

                var obj = new SimulatedMemoryObject
                {
                    Kind = SimulatedMemoryKind.Allocation, Address = va, Size = size, Node = node, Flags = flags,
                    IsHandle = noAddress, File = file, FileId = file is null ? null : FileStat.Identity(file), Cpu = cpu,
                    ChargedBytes = charge, ChargedToVram = vram,
                };
                if (noAddress) _byHandle.Add(va, obj);
                else if (!_byAddress.TryAdd(va, size, obj)) throw new InvalidOperationException($"simulated KFD object overlap at {va:x}");
                _used[bank] += charge;
                _counters.AddAllocations(1);
                address = va;
                return HsaStatus.Success;
            }
            catch (LibcException e)
            {
                // Out of memory, fds or map count: the KFD's answer is NO_MEMORY, not a crash.
                _log.Warning("AllocMemory node {Node} size {Size:x}: {Error}", node, size, e.Message);
                cpu?.Dispose();
                file?.Dispose();
                if (cpu is null && backing is not null) _va!.Unback(backing);
                return HsaStatus.NoMemory;
            }
        }
    }

    public HsaStatus Free(ulong address)
    {
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null || obj.Address != address || obj.Kind == SimulatedMemoryKind.Userptr) return HsaStatus.MemoryNotRegistered;
            Remove(obj);
            return HsaStatus.Success;
        }
    }

    public bool TryGetBacking(ulong address, ulong length, out MemoryBacking backing)
    {
        lock (_lock)
        {
            backing = null!;
            var obj = Lookup(address);
            if (obj?.File is null || length == 0 || !obj.Contains(address, length)) return false;
            backing = new MemoryBacking(obj.File, obj.FileOffset + (address - obj.Address), length);
            return true;
        }
    }

    /// <summary>True if [address, +size) lies inside one object (rings, r/w pointers, trap buffers).</summary>
    public bool IsInsideObject(ulong address, ulong size)
    {
        lock (_lock) return Lookup(address) is { } o && !o.IsHandle && o.Contains(address, size);
    }

    public HsaStatus Map(ulong address, ulong size, ReadOnlySpan<uint> nodes, out ulong alternateVa)
    {
        alternateVa = 0;
        foreach (var n in nodes)
            if (n >= _nodes.Length || !_nodes[n].IsGpu) return HsaStatus.InvalidNodeUnit;
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null || (size != 0 && !obj.Contains(address, size))) return HsaStatus.InvalidParameter;
            if (nodes.IsEmpty)
                foreach (var n in _nodes.Where(n => n.IsGpu)) obj.MappedNodes.Add(n.Id);
            else
                foreach (var n in nodes) obj.MappedNodes.Add(n);
            obj.GpuMapCount++;
            _counters.AddMappings(1);
            alternateVa = obj.Address;
            return HsaStatus.Success;
        }
    }

    public HsaStatus Unmap(ulong address)
    {
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null) return HsaStatus.InvalidParameter;
            if (obj.GpuMapCount == 0) return HsaStatus.Error; // amdkfd: not mapped
            if (--obj.GpuMapCount == 0) obj.MappedNodes.Clear();
            _counters.AddMappings(-1);
            return HsaStatus.Success;
        }
    }

    public HsaStatus RegisterUserptr(ulong address, ulong size, HsaMemFlags flags)
    {
        if (address == 0 || size == 0) return HsaStatus.InvalidParameter;
        if (address + size < address) return HsaStatus.InvalidParameter;
        if (_va is not null && _va.Covers(address, 1)) return HsaStatus.InvalidParameter; // KFD memory is not user memory
        lock (_lock)
        {
            if (_disposed) return HsaStatus.KernelIoChannelNotOpened;
            var obj = new SimulatedMemoryObject
            {
                Kind = SimulatedMemoryKind.Userptr, Address = address, Size = size, Node = 0, Flags = flags,
            };
            if (!_byAddress.TryAdd(address, size, obj)) return HsaStatus.MemoryAlreadyRegistered;
            _counters.AddRegistrations(1);
            return HsaStatus.Success;
        }
    }

    public HsaStatus Deregister(ulong address)
    {
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null || obj.Address != address || obj.Kind == SimulatedMemoryKind.Allocation) return HsaStatus.MemoryNotRegistered;
            Remove(obj);
            return HsaStatus.Success;
        }
    }

    public HsaStatus ExportDmaBuf(ulong address, ulong size, out SafeFileHandle fd, out ulong offset)
    {
        fd = null!;
        offset = 0;
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj?.File is null || size == 0 || !obj.Contains(address, size)) return HsaStatus.InvalidParameter;
            fd = FileDescriptors.Duplicate(obj.File);
            offset = obj.FileOffset + (address - obj.Address);
            return HsaStatus.Success;
        }
    }

    public HsaStatus Share(ulong address, ulong size, out U32x8 handle)
    {
        handle = default;
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null || obj.Kind != SimulatedMemoryKind.Allocation || obj.File is null || obj.Address != address || size == 0 || size > obj.Size)
                return HsaStatus.InvalidParameter;
            if (obj.ShareId == 0)
            {
                obj.ShareId = ++_nextShareId;
                _shared.Add(obj.ShareId, obj);
                _counters.AddExports(1);
            }
            handle[0] = ShareMagic;
            handle[1] = obj.Node;
            handle[2] = (uint)obj.ShareId;
            handle[3] = (uint)(obj.ShareId >> 32);
            handle[4] = (uint)obj.Size;
            handle[5] = (uint)(obj.Size >> 32);
            return HsaStatus.Success;
        }
    }

    /// <summary>
    /// Imports a shared allocation: the same pages, mapped again. <paramref name="placeVa"/> (if given) reserves the
    /// import's VA for its size; 0 from it refuses the import with NO_MEMORY.
    /// </summary>
    public HsaStatus RegisterShared(in U32x8 handle, ReadOnlySpan<uint> nodes, Func<ulong, ulong>? placeVa, out ulong address, out ulong size)
    {
        address = 0;
        size = 0;
        foreach (var n in nodes)
            if (n >= _nodes.Length || !_nodes[n].IsGpu) return HsaStatus.InvalidNodeUnit;
        SimulatedMemoryObject? source;
        lock (_lock)
        {
            var id = handle[2] | (ulong)handle[3] << 32;
            if (handle[0] != ShareMagic || !_shared.TryGetValue(id, out source)) return HsaStatus.InvalidHandle;
        }
        return Import(SimulatedMemoryKind.SharedImport, source.File!, source.FileOffset, source.Size, source.Node, source.Flags, placeVa, out address, out size);
    }

    /// <summary>Imports a dma-buf this process exported (a memfd of one of its allocations); anything else is INVALID_HANDLE.</summary>
    public HsaStatus RegisterGraphics(SafeHandle dmaBuf, ReadOnlySpan<uint> nodes, out ulong address, out ulong size, out uint node)
    {
        address = 0;
        size = 0;
        node = 0;
        foreach (var n in nodes)
            if (n >= _nodes.Length || !_nodes[n].IsGpu) return HsaStatus.InvalidNodeUnit;
        var id = FileStat.Identity(dmaBuf);
        if (id is null) return HsaStatus.InvalidHandle;
        SimulatedMemoryObject? source;
        lock (_lock)
            source = _byAddress.Values.Concat(_byHandle.Values)
                .FirstOrDefault(o => o.Kind == SimulatedMemoryKind.Allocation && o.FileId is not null && o.FileId == id);
        if (source is null) return HsaStatus.InvalidHandle;
        node = source.Node;
        return Import(SimulatedMemoryKind.GraphicsImport, source.File!, source.FileOffset, source.Size, source.Node, source.Flags, null, out address, out size);
    }

    private HsaStatus Import(SimulatedMemoryKind kind, SafeHandle sourceFile, ulong fileOffset, ulong length, uint node, HsaMemFlags flags,
        Func<ulong, ulong>? placeVa, out ulong address, out ulong size)
    {
        address = 0;
        size = 0;
        SafeFileHandle? dup = null;
        MappedRegion cpu;
        VaBacking? backing = null;
        try
        {
            dup = FileDescriptors.Duplicate(sourceFile);
            if (placeVa is not null)
            {
                var va = placeVa(length);
                backing = va == 0 || _va is null ? null : _va.TryBack(va, length);
                if (backing is null) { dup.Dispose(); return HsaStatus.NoMemory; }
                var b = backing;
                cpu = Mmap.MapSharedFixed(dup, fileOffset, va, length, (_, _) => _va!.Unback(b));
            }
            else
            {
                cpu = Mmap.MapShared(dup, fileOffset, length);
            }
        }
        catch (LibcException e)
        {
            _log.Warning("Import of {Size:x} bytes: {Error}", length, e.Message);
            if (backing is not null) _va!.Unback(backing);
            dup?.Dispose();
            return HsaStatus.NoMemory;
        }
        var obj = new SimulatedMemoryObject
        {
            Kind = kind, Address = cpu.Address, Size = length, Node = node, Flags = flags, File = dup, FileOffset = fileOffset, Cpu = cpu,
        };
        lock (_lock)
        {
            if (_disposed || !_byAddress.TryAdd(obj.Address, length, obj))
            {
                obj.Release();
                return HsaStatus.NoMemory;
            }
            _counters.AddRegistrations(1);
        }
        address = obj.Address;
        size = length;
        return HsaStatus.Success;
    }

    public HsaStatus PointerInfo(ulong address, out HsaPointerInfo info, Span<uint> mappedNodes)
    {
        info = default;
        lock (_lock)
        {
            var obj = Lookup(address);
            if (obj is null) return HsaStatus.Error; // the thunk: HSA_POINTER_UNKNOWN + ERROR
            info.Type = obj.Kind switch
            {
                SimulatedMemoryKind.Allocation => 1u,
                SimulatedMemoryKind.Userptr => 2u,
                SimulatedMemoryKind.GraphicsImport => 3u,
                _ => 4u,
            };
            info.Node = obj.Node;
            info.MemFlags = obj.Flags;
            info.CPUAddress = obj.Cpu is not null || obj.Kind == SimulatedMemoryKind.Userptr ? obj.Address : 0;
            info.GPUAddress = obj.IsHandle ? 0 : obj.Address;
            info.SizeInBytes = obj.Size;
            info.NMappedNodes = (uint)obj.MappedNodes.Count;
            var i = 0;
            foreach (var n in obj.MappedNodes.Order())
                if (i < mappedNodes.Length) mappedNodes[i++] = n;
            return HsaStatus.Success;
        }
    }

    // Under _lock.
    private SimulatedMemoryObject? Lookup(ulong address) =>
        address >= HandleBase ? (_byHandle.TryGetValue(address, out var h) ? h : null) : _byAddress.FindContaining(address);

    // Under _lock.
    private void Remove(SimulatedMemoryObject obj)
    {
        if (obj.IsHandle) _byHandle.Remove(obj.Address); else _byAddress.Remove(obj.Address);
        if (obj.GpuMapCount > 0) _counters.AddMappings(-obj.GpuMapCount);
        if (obj.ShareId != 0)
        {
            _shared.Remove(obj.ShareId);
            _counters.AddExports(-1);
        }
        if (obj.Kind == SimulatedMemoryKind.Allocation)
        {
            _used[obj.ChargedToVram ? obj.Node : 0] -= obj.ChargedBytes;
            _counters.AddAllocations(-1);
        }
        else
        {
            _counters.AddRegistrations(-1);
        }
        obj.Release();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var o in _byAddress.Values.Concat(_byHandle.Values).ToList()) Remove(o);
        }
    }
}
