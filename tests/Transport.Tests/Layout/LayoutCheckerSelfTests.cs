using System.Runtime.InteropServices;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// The checkers must catch wrong layouts: each test feeds a deliberately wrong copy of a real struct (declared
/// here, never in src/) and asserts the mismatch is reported by name.
/// </summary>
public sealed class LayoutCheckerSelfTests
{
    // HsaClockCounters with CPUClockCounter moved onto GPUClockCounter.
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    private struct OverlappingClockCounters
    {
        public const int Size = 32;
        [FieldOffset(0)] public ulong GPUClockCounter;
        [FieldOffset(0)] public ulong CPUClockCounter;
        [FieldOffset(16)] public ulong SystemClockCounter;
        [FieldOffset(24)] public ulong SystemClockFrequencyHz;
    }

    // HsaVersionInfo with a 2-byte field, a misspelt name and a declared Size that lies.
    [StructLayout(LayoutKind.Explicit, Size = 8)]
    private struct SloppyVersionInfo
    {
        public const int Size = 12;
        [FieldOffset(0)] public ushort KernelInterfaceMajorVersion;
        [FieldOffset(4)] public uint KernelInterfaceMinorVersio;
    }

    // HsaMemFlags with HostAccess on the wrong bit and no PageSizeShift.
    [StructLayout(LayoutKind.Explicit, Size = 4)]
    private struct WrongBitsMemFlags
    {
        [FieldOffset(0)] public uint Value;
        public const uint NonPaged = 1u << 0, ReadOnly = 1u << 3, HostAccess = 1u << 7;
        public const int CachePolicyShift = 1;
    }

    // virtio_gpu_mem_entry with length/padding swapped around an 8-byte hole.
    [StructLayout(LayoutKind.Sequential)]
    private struct MisalignedMemEntry
    {
        public uint length;
        public ulong addr;
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Json_check_reports_a_moved_field()
    {
        Prerequisites.Require(Needs.SharedSpec);
        var check = JsonLayout.Check(typeof(OverlappingClockCounters), LayoutFacts.GNew.Types["HsaClockCounters"], "gnew-h25.json");
        Assert.Equal(["CPUClockCounter (HSAuint64): C# offset 0, expected 8"], check.Errors);
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Json_check_reports_size_name_and_width_errors()
    {
        Prerequisites.Require(Needs.SharedSpec);
        var errors = JsonLayout.Check(typeof(SloppyVersionInfo), LayoutFacts.GNew.Types["HsaVersionInfo"], "gnew-h25.json").Errors;
        Assert.Contains(errors, e => e.StartsWith("const Size: C# 12, expected 8", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("KernelInterfaceMajorVersion (HSAuint32): C# size 2", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("KernelInterfaceMinorVersion (HSAuint32): no C# field", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("KernelInterfaceMinorVersio: C# field at offset 4 has no C member", StringComparison.Ordinal));
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Json_check_reports_wrong_and_missing_bit_constants()
    {
        Prerequisites.Require(Needs.SharedSpec);
        var errors = JsonLayout.Check(typeof(WrongBitsMemFlags), LayoutFacts.GNew.Types["HsaMemFlags"], "gnew-h25.json").Errors;
        Assert.Contains("bitfield ui32.HostAccess: const HostAccess = 0x80, expected 1 << 6", errors);
        Assert.Contains("bitfield ui32.PageSize (bits 4..5): no const int PageSizeShift", errors);
        Assert.Contains("bitfield ui32.Scratch (bit 9): no const Scratch", errors);
        Assert.DoesNotContain(errors, e => e.Contains("NonPaged", StringComparison.Ordinal));
    }

    [NeedsFact(Needs.Gcc | Needs.LinuxHeaders)]
    public void Header_probe_reports_a_misplaced_field()
    {
        Prerequisites.Require(Needs.Gcc | Needs.LinuxHeaders);
        const string c = "struct virtio_gpu_mem_entry";
        var probe = new CProbe("self_test", ["linux/virtio_gpu.h"]);
        HeaderLayout.Add(probe, c, ["addr", "length"]);
        var errors = HeaderLayout.Compare(probe.Run(), c, typeof(MisalignedMemEntry), "linux/virtio_gpu.h", ["addr", "length"]).Errors;
        Assert.Equal(["addr: C# offset 8, expected 0", "length: C# offset 0, expected 8"], errors);
    }

    [NeedsFact(Needs.Gcc)]
    public void Probe_fails_loudly_when_the_c_member_does_not_exist()
    {
        Prerequisites.Require(Needs.Gcc);
        var probe = new CProbe("self_test_missing", []);
        probe.Field("struct { int a; }", "b");
        var ex = Assert.Throws<InvalidOperationException>(() => probe.Run());
        Assert.Contains("gcc failed", ex.Message, StringComparison.Ordinal);
    }
}
