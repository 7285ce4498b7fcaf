using VhsaKmt.Transport.VhostUser;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// The vhost-user payload structs of src/Transport/VhostUser: against the kernel's linux/vhost_types.h where
/// vhost-user reuses a kernel layout, and against the sizes of qemu docs/interop/vhost-user.rst (and
/// shared/spec/VHOST-USER.md §5 for the SHMEM messages) where it does not.
/// </summary>
public sealed class VhostUserLayoutTests
{
    private const Needs Requires = Needs.Gcc | Needs.LinuxHeaders;
    private const string Truth = "linux/vhost_types.h";

    /// <summary>C# struct, kernel struct, and C# field → kernel member.</summary>
    private static readonly (Type Clr, string CName, (string Clr, string C)[] Fields)[] KernelTwins =
    [
        (typeof(VringStatePayload), "struct vhost_vring_state",
            [(nameof(VringStatePayload.Index), "index"), (nameof(VringStatePayload.Num), "num")]),
        (typeof(VringAddrPayload), "struct vhost_vring_addr",
        [
            (nameof(VringAddrPayload.Index), "index"), (nameof(VringAddrPayload.Flags), "flags"),
            (nameof(VringAddrPayload.DescUserAddr), "desc_user_addr"), (nameof(VringAddrPayload.UsedUserAddr), "used_user_addr"),
            (nameof(VringAddrPayload.AvailUserAddr), "avail_user_addr"), (nameof(VringAddrPayload.LogGuestAddr), "log_guest_addr"),
        ]),
        // vhost-user's region carries mmap_offset where the kernel struct has flags_padding: same slot, same size.
        (typeof(MemoryRegionPayload), "struct vhost_memory_region",
        [
            (nameof(MemoryRegionPayload.GuestPhysAddr), "guest_phys_addr"), (nameof(MemoryRegionPayload.MemorySize), "memory_size"),
            (nameof(MemoryRegionPayload.UserAddr), "userspace_addr"), (nameof(MemoryRegionPayload.MmapOffset), "flags_padding"),
        ]),
        (typeof(MemoryTableHeader), "struct vhost_memory",
            [(nameof(MemoryTableHeader.RegionCount), "nregions"), (nameof(MemoryTableHeader.Padding), "padding")]),
    ];

    private static readonly Lazy<CProbeResult> Probe = new(() =>
    {
        var p = new CProbe("vhost_types_layout", ["linux/vhost_types.h"]);
        foreach (var (_, cName, fields) in KernelTwins)
            HeaderLayout.Add(p, cName, fields.Select(f => f.C));
        p.Offset("struct vhost_memory", "regions");
        return p.Run();
    });

    public static TheoryData<string> KernelTwinNames() => new(KernelTwins.Select(k => k.Clr.Name));

    [NeedsTheory(Requires)]
    [MemberData(nameof(KernelTwinNames))]
    public void Payload_matches_kernel_struct(string typeName)
    {
        Prerequisites.Require(Requires);
        var (clr, cName, fields) = KernelTwins.Single(k => k.Clr.Name == typeName);
        var check = new LayoutCheck(clr, $"{Truth} {cName}");
        check.Size(Probe.Value.Size(cName));
        foreach (var (clrField, cField) in fields)
            check.Field(clrField, Probe.Value.Offset(cName, cField), Probe.Value.FieldSize(cName, cField), cField);
        check.NoExtraFields(fields.Select(f => f.Clr));
        check.AssertNoErrors();
    }

    [NeedsFact(Requires)]
    public void Memory_table_regions_follow_the_header()
    {
        Prerequisites.Require(Requires);
        Assert.Equal(MemoryTableHeader.Size, Probe.Value.Offset("struct vhost_memory", "regions"));
    }

    /// <summary>Sizes and offsets from vhost-user.rst ("Message types") and VHOST-USER.md §5.</summary>
    public static TheoryData<string> SpecTypeNames() => new(SpecLayouts.Select(s => s.Clr.Name));

    private static readonly (Type Clr, int Size, (string Field, int Offset)[] Fields)[] SpecLayouts =
    [
        // header: u32 request, u32 flags, u32 size
        (typeof(VhostUserHeader), 12,
            [(nameof(VhostUserHeader.Request), 0), (nameof(VhostUserHeader.Flags), 4), (nameof(VhostUserHeader.PayloadSize), 8)]),
        // single memory region description: u64 padding, then a 32-byte memory region description
        (typeof(SingleMemoryRegionPayload), 40,
            [(nameof(SingleMemoryRegionPayload.Padding), 0), (nameof(SingleMemoryRegionPayload.Region), 8)]),
        // device config space: u32 offset, u32 size, u32 flags, then the payload
        (typeof(ConfigHeader), 12,
            [(nameof(ConfigHeader.Offset), 0), (nameof(ConfigHeader.PayloadSize), 4), (nameof(ConfigHeader.Flags), 8)]),
        // SHMEM_MAP/UNMAP: u8 shmid, 7 bytes padding, u64 fd_offset, u64 shm_offset, u64 len, u64 flags
        (typeof(ShmemMapPayload), 40,
        [
            (nameof(ShmemMapPayload.ShmId), 0), (nameof(ShmemMapPayload.FdOffset), 8), (nameof(ShmemMapPayload.ShmOffset), 16),
            (nameof(ShmemMapPayload.Length), 24), (nameof(ShmemMapPayload.Flags), 32),
        ]),
    ];

    [Theory]
    [MemberData(nameof(SpecTypeNames))]
    public void Payload_matches_vhost_user_spec(string typeName)
    {
        var (clr, size, fields) = SpecLayouts.Single(s => s.Clr.Name == typeName);
        var check = new LayoutCheck(clr, "qemu docs/interop/vhost-user.rst");
        check.Size(size);
        foreach (var (field, offset) in fields)
            check.Field(field, offset, null);
        check.AssertNoErrors();
    }

    [Fact]
    public void Shmem_config_reply_is_nregions_padding_and_256_sizes()
    {
        // GET_SHMEM_CONFIG reply: u32 nregions, u32 padding, u64 memory_sizes[256] (VHOST-USER.md §5).
        Assert.Equal(256, ShmemConfigWire.MaxRegions);
        Assert.Equal(4 + 4 + 8 * 256, ShmemConfigWire.Size);
    }
}
