using System.Runtime.InteropServices;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.VhostUser;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

public sealed class MemoryTableTests
{
    [Fact]
    public void Guest_physical_and_user_addresses_translate_in_both_regions_with_bounds()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            var table = connection.MemoryTable;
            foreach (var region in vmm.Ram.Regions)
            {
                ulong gpa = region.GuestPhysAddr + 0x1000;
                vmm.Ram.Write(gpa, new byte[] { 0xDE, 0xAD, 0xBE, 0xEF });
                var read = new byte[4];
                Assert.True(table.TryRead(gpa, read));
                Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, read);

                Assert.True(table.TryWrite(gpa + 8, new byte[] { 1, 2 }));
                Assert.Equal(new byte[] { 1, 2 }, vmm.Ram.Read(gpa + 8, 2));

                Assert.True(table.TryTranslateUser(vmm.Ram.UserAddress(gpa), 4, out ulong translated));
                Assert.Equal(gpa, translated);

                // The last byte is inside, one more is not.
                ulong end = region.GuestPhysAddr + region.Size;
                Assert.True(table.TryRead(end - 1, new byte[1]));
                Assert.False(table.TryRead(end - 1, new byte[2]));
                Assert.False(table.TryWrite(end, new byte[1]));
            }
            Assert.False(table.TryRead(0x7000_0000, new byte[1]));
            Assert.False(table.TryRead(ulong.MaxValue, new byte[1]));
            Assert.False(table.TryTranslateUser(0x10, 1, out _));
        }
    }

    [Fact]
    public void Fd_range_is_a_dup_of_the_region_fd_at_the_right_offset()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            var region = vmm.Ram.Regions[1];
            ulong gpa = region.GuestPhysAddr + 0x3000;
            vmm.Ram.Write(gpa, new byte[] { 9, 8, 7 });
            Assert.True(connection.Memory.TryGetFdRange(gpa, 0x1000, out var range));
            using (range.Fd)
            {
                Assert.Equal(0x3000UL, range.FdOffset);
                Assert.Equal(0x1000UL, range.Length);
                var bytes = new byte[3];
                RandomAccess.Read(range.Fd, bytes, (long)range.FdOffset);
                Assert.Equal(new byte[] { 9, 8, 7 }, bytes);
            }
            Assert.False(connection.Memory.TryGetFdRange(region.GuestPhysAddr + region.Size - 0x10, 0x20, out _));
        }
    }

    [Fact]
    public void Region_larger_than_its_file_is_refused_and_the_old_table_stays()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            using var small = Memfd.Create("small", 0x1000, seal: false);
            var payload = new byte[MemoryTableHeader.Size + MemoryRegionPayload.Size];
            BitConverter.TryWriteBytes(payload, 1u);
            var region = new MemoryRegionPayload { GuestPhysAddr = 0, MemorySize = 0x10000, UserAddr = 0x1000_0000, MmapOffset = 0 };
            MemoryMarshal.Write(payload.AsSpan(MemoryTableHeader.Size), in region);
            var reply = vmm.Request(VhostUserRequest.SetMemTable, payload, [small], needReply: true)!;
            Assert.NotEqual(0UL, reply.U64);
            Assert.Equal(2, connection.MemoryTable.RegionCount);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("exceeds its file"));
        }
    }

    [Fact]
    public void Add_and_remove_mem_reg_change_the_table()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            using var extra = Memfd.Create("extra", 0x2000, seal: false);
            var msg = new SingleMemoryRegionPayload
            {
                Region = new MemoryRegionPayload { GuestPhysAddr = 0x9000_0000, MemorySize = 0x1000, UserAddr = 0x5555_0000, MmapOffset = 0x1000 },
            };
            vmm.RequestAcked(VhostUserRequest.AddMemReg, in msg, [extra]);
            Assert.Equal(3, connection.MemoryTable.RegionCount);
            RandomAccess.Write(new Microsoft.Win32.SafeHandles.SafeFileHandle(extra.DangerousGetHandle(), false), new byte[] { 0x5A }, 0x1000);
            var b = new byte[1];
            Assert.True(connection.Memory.TryRead(0x9000_0000, b));
            Assert.Equal(0x5A, b[0]);

            vmm.RequestAcked(VhostUserRequest.RemMemReg, in msg);
            Assert.Equal(2, connection.MemoryTable.RegionCount);
            Assert.False(connection.Memory.TryRead(0x9000_0000, b));

            // Removing it again fails cleanly.
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.RemMemReg, in msg, needReply: true)!.U64);
        }
    }

    [Fact]
    public void Table_swap_keeps_chains_in_flight_readable()
    {
        using var harness = new BackendHarness();
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            device.HoldChains = true;
            vmm.PutChain(0, [[1, 2, 3, 4]], [4]);
            vmm.Kick(0);
            Assert.True(SpinWait.SpinUntil(() => !device.Held.IsEmpty, BackendHarness.Timeout));
            // QEMU re-sends the whole table (new fds, same RAM) around every SHMEM_MAP.
            vmm.SendMemTable();
            Assert.True(device.Held.TryDequeue(out var chain));
            var data = new byte[4];
            Assert.Equal(4, chain.ReadAt(0, data));
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, data);
            Assert.Equal(4, chain.Write(data));
            var queue = device.Host!.Queue(0)!;
            queue.Complete(chain, 4);
            queue.Flush();
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, vmm.WaitUsed(0).Data);
        }
    }
}
