using VhsaKmt.TestSupport.Memory;
using Akka.Configuration;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Tests.Support;
using Xunit;

namespace VhsaKmt.Actors.Tests.Context;

/// <summary>CREATE_BLOB resolution (PROTOCOL.md §2.8, §2.9) and the HOCON section.</summary>
public sealed class BlobResolutionTests : ContextTestBase
{
    [Theory]
    [InlineData(3u, 4096UL, 2u)]      // flags not exactly MAPPABLE
    [InlineData(0u, 4096UL, 2u)]
    [InlineData(1u, 4UL, 2u)]         // too small
    [InlineData(1u, 1UL << 32, 2u)]   // too large
    [InlineData(1u, 4096UL, 3u)]      // not HOST3D
    public void Bad_shmem_blobs_are_refused(uint flags, ulong size, uint blobMem)
    {
        var ctx = NewContext(withShmem: false);
        var refused = Assert.IsType<BlobRefused>(CreateBlob(ctx, 5, 0, flags, size, blobMem));
        Assert.Equal(0x1205u, refused.VirtioError);
        Assert.Null(ctx.State.Shmem);
    }

    [Fact]
    public void One_shmem_per_context_and_a_tiny_one_only_publishes_seqno()
    {
        var ctx = NewContext(withShmem: false);
        var first = CreateBlob(ctx, 5, 0, 1, 8);
        Assert.True(first is BlobCreated, (first as BlobRefused)?.Reason);
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 6, 0, 1, 4096));
        Assert.Equal(0, ctx.State.Shmem!.AreaSize);
        var q = new byte[128];
        System.Runtime.InteropServices.MemoryMarshal.Write(q, new VhsaKmt.Transport.Hsakmt.CcmdReqHeader { cmd = 2, len = 128, seqno = 1 });
        Assert.Equal(0x1100u, Submit(ctx, q).Status);
        Assert.Equal(1u, ctx.State.Shmem.Seqno);
    }

    [Fact]
    public void Unknown_blob_id_high_bits_and_svm_are_refused()
    {
        var ctx = NewContext();
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 5, 77, 0, 4096));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 5, 1UL << 33, 0, 4096));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 5, 77, 0x20, 4096, 3, [new MemEntry(MemfdGuestMemory.Base, 4096)]));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, ctx.ShmemResId, 77, 0, 4096)); // res_id of the shmem is bound
    }

    [Fact]
    public void Repo_hocon_context_section_parses()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HOCON.conf"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var config = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(dir!.FullName, "HOCON.conf")));
        var s = ContextSettings.FromConfig(config.GetConfig("vhsakmt.context"));
        Assert.Equal(4096, s.MaxObjects);
        Assert.Equal(128, s.MaxQueues);
        Assert.Equal(0UL, s.VramQuotaBytes);
        Assert.Equal(3, s.MaxRestarts);
        Assert.Equal(TimeSpan.FromSeconds(60), s.RestartWindow);
        Assert.Equal([5UL], s.DrmCommandAllowlist);
    }
}
