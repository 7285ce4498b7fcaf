using System.Runtime.InteropServices;
using Xunit;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>The QEMU tests' own tools, checked without QEMU: console parsing and the memory reader.</summary>
public sealed class GuestReportTests
{
    [Fact]
    public void Report_lines_are_found_behind_kernel_output_and_parsed_into_tag_verdict_step_details()
    {
        const string console = "[    4.9] random kernel line\n"
            + "@@vhsakmt vm1-c1 PASS open node=/dev/dri/renderD128\n"
            + "[    5.0] virtio_gpu: something@@vhsakmt vm1-c1 FAIL context_init errno=22(Invalid argument)\r\n"
            + "@@vhsakmt vm1-c2 PASS write_pattern va=0x100000200000 size=8192 seed=0x00000000000000ff\n"
            + "@@dmesg [    4.909782] [drm] features: -virgl +edid\n"
            + "@@vhsakmt vm1-c1 DONE pass=1 fail=1\n";

        var r = new GuestReport(console);

        Assert.Equal(4, r.Lines.Count);
        var fail = Assert.Single(r.Failures("vm1-c1"));
        Assert.Equal(("context_init", "errno=22(Invalid argument)"), (fail.Step, fail.Details));
        Assert.Equal("/dev/dri/renderD128", r.Find("vm1-c1", "PASS", "open")!.Value("node"));
        var pattern = r.Find("vm1-c2", "PASS", "write_pattern")!;
        Assert.Equal(0x100000200000UL, pattern.HexValue("va"));
        Assert.Equal(0xffUL, pattern.HexValue("seed"));
        Assert.Equal("8192", pattern.Value("size"));
        Assert.True(r.IsDone("vm1-c1"));
        Assert.False(r.IsDone("vm1-c2"));
        Assert.Equal(["[    4.909782] [drm] features: -virgl +edid"], r.KernelLines.ToArray());
    }

    [Fact]
    public void Seed_is_fnv1a_of_the_tag_like_the_guest_client()
    {
        // FNV-1a 64 of "a" is a published test vector.
        Assert.Equal(0xaf63dc4c8601ec8cUL, KfdMemory.Seed("a"));
        Assert.Equal(0xcbf29ce484222325UL, KfdMemory.Seed(""));
    }

    [Fact]
    public void Memory_reader_sees_this_process_memory_and_the_pattern_check_finds_the_first_wrong_word()
    {
        const ulong seed = 0x1234_5678_9abc_def0;
        var words = Enumerable.Range(0, 64).Select(i => unchecked(seed ^ ((ulong)i * 0x9E3779B97F4A7C15UL))).ToArray();
        var handle = GCHandle.Alloc(words, GCHandleType.Pinned);
        try
        {
            var address = (ulong)handle.AddrOfPinnedObject();
            Assert.Equal(-1, KfdMemory.FirstMismatch(KfdMemory.Read(address, 64 * 8), seed));
            words[17] ^= 1;
            Assert.Equal(17, KfdMemory.FirstMismatch(KfdMemory.Read(address, 64 * 8), seed));
        }
        finally
        {
            handle.Free();
        }
    }

    [Fact]
    public void Memory_reader_reports_an_unmapped_address_as_an_io_error_instead_of_crashing()
    {
        // Page 0 is never mapped in a .NET process.
        Assert.ThrowsAny<IOException>(() => KfdMemory.Read(0x10, 8));
    }
}
