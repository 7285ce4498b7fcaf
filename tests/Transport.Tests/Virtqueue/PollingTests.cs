using System.Diagnostics;
using System.Runtime.InteropServices;
using Serilog.Events;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Tests.VhostUser;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;
using Xunit.Abstractions;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>
/// Rings served without kicks: adaptive polling after work (with the driver's kicks suppressed while the IO thread
/// watches the ring, and re-enabled before it blocks), no polling on a single CPU, and the "no kick fd" mode.
/// <para>The TestVmm driver here decides whether to kick as Linux's virtqueue_kick_prepare does: publish, full fence,
/// then vring_need_event(avail_event, new, old) with EVENT_IDX, or !(used->flags &amp; NO_NOTIFY) without.</para>
/// </summary>
public sealed class PollingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    private static VhostUserOptions Polling(int spinMicroseconds) =>
        VhostUserOptions.Default with { Polling = new PollingOptions(true, spinMicroseconds) };

    /// <summary>Publish a one-byte echo request and return whether the driver must kick for it.</summary>
    private static bool Publish(TestVmm vmm, int queue, byte value, bool eventIdx)
    {
        var ring = vmm.Ring(queue);
        ushort old = ring.AvailIndex;
        vmm.PutChain(queue, [[value]], [1]);
        ushort @new = ring.AvailIndex;
        Interlocked.MemoryBarrier(); // avail idx store before the suppression loads (virtio_mb)
        return eventIdx
            ? SplitVirtqueue.NeedEvent(ring.AvailEvent, @new, old)
            : (UsedFlags(vmm, queue) & VringConst.VRING_USED_F_NO_NOTIFY) == 0;
    }

    private static ushort UsedFlags(TestVmm vmm, int queue) => vmm.Ram.ReadU16Acquire(vmm.Ring(queue).UsedRing);

    /// <summary>The device has asked not to be kicked (every buffer published so far was consumed).</summary>
    private static bool KicksSuppressed(TestVmm vmm, int queue, bool eventIdx)
    {
        var ring = vmm.Ring(queue);
        return eventIdx
            ? ring.AvailEvent == (ushort)(ring.AvailIndex - 1)
            : (UsedFlags(vmm, queue) & VringConst.VRING_USED_F_NO_NOTIFY) != 0;
    }

    /// <summary>The device wants a kick for the next buffer.</summary>
    private static bool KicksWanted(TestVmm vmm, int queue, bool eventIdx)
    {
        var ring = vmm.Ring(queue);
        return eventIdx
            ? ring.AvailEvent == ring.AvailIndex
            : (UsedFlags(vmm, queue) & VringConst.VRING_USED_F_NO_NOTIFY) == 0;
    }

    private static void Until(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, BackendHarness.Timeout), $"not within {BackendHarness.Timeout.TotalSeconds} s: {what}");

    [MultiCpuTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_chain_published_during_the_spin_needs_no_kick_and_is_served(bool eventIdx)
    {
        // A long window: the driver publishes well inside it even on a loaded CI box.
        using var harness = new BackendHarness(options: Polling(500_000));
        var (vmm, _, device) = harness.Connect(new TestVmmOptions { EventIdx = eventIdx });
        using (vmm)
        {
            Assert.True(Publish(vmm, 0, 1, eventIdx), "an idle device must want the first kick");
            vmm.Kick(0);
            Assert.Equal(new byte[] { 1 }, vmm.WaitUsed(0).Data);
            Until(() => KicksSuppressed(vmm, 0, eventIdx), "the spinning device suppresses kicks");
            int notifications = device.Notifications;

            Assert.False(Publish(vmm, 0, 2, eventIdx), "a driver must not kick while the device polls");
            Assert.Equal(new byte[] { 2 }, vmm.WaitUsed(0).Data);
            Assert.True(device.Notifications > notifications);
            // Served from the spin, which keeps watching (and suppressing) after the work it found.
            Until(() => KicksSuppressed(vmm, 0, eventIdx), "kicks suppressed again after serving from the spin");
        }
    }

    [MultiCpuTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Kicks_are_suppressed_during_the_window_and_wanted_again_after_it(bool eventIdx)
    {
        using var harness = new BackendHarness(options: Polling(200_000));
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { EventIdx = eventIdx });
        using (vmm)
        {
            Publish(vmm, 0, 1, eventIdx);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Until(() => KicksSuppressed(vmm, 0, eventIdx), "kicks suppressed in the spin window");
            Until(() => KicksSuppressed(vmm, 1, eventIdx), "the other ring is watched (and suppressed) too");
            Until(() => KicksWanted(vmm, 0, eventIdx), "kicks wanted again once the window is over");
            Until(() => KicksWanted(vmm, 1, eventIdx), "kicks wanted again on the other ring");

            // The device blocks in epoll now: a buffer needs its kick, and gets served by it.
            Assert.True(Publish(vmm, 0, 2, eventIdx), "after the window the driver must be asked to kick");
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(0, Quiet));
            vmm.Kick(0);
            Assert.Equal(new byte[] { 2 }, vmm.WaitUsed(0).Data);
        }
    }

    [MultiCpuTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void No_buffer_is_lost_when_the_spin_ends_as_the_driver_publishes(bool eventIdx)
    {
        // A short window and a publish delay that walks across it (0..150 µs after the previous completion was
        // seen): some rounds land in the spin (no kick), some after it (kick), some right at the transition,
        // where only the re-check after re-enabling kicks can find the buffer. A lost one times out.
        const int Rounds = 600;
        const int WindowMicroseconds = 50;
        using var harness = new BackendHarness(options: Polling(WindowMicroseconds));
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { EventIdx = eventIdx });
        using (vmm)
        {
            int kicked = 0;
            for (int round = 0; round < Rounds; round++)
            {
                long delay = (round % 31) * 5 * Stopwatch.Frequency / 1_000_000;
                long until = Stopwatch.GetTimestamp() + delay;
                while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);

                byte value = (byte)round;
                if (Publish(vmm, 0, value, eventIdx))
                {
                    vmm.Kick(0);
                    kicked++;
                }
                UsedChain used;
                try
                {
                    used = vmm.WaitUsed(0, TimeSpan.FromSeconds(2));
                }
                catch (TimeoutException e)
                {
                    throw new TimeoutException($"round {round}: buffer lost (driver kicked in {kicked} of {round + 1} rounds); avail_event " +
                                               $"{vmm.Ring(0).AvailEvent}, avail idx {vmm.Ring(0).AvailIndex}, used flags {UsedFlags(vmm, 0)}", e);
                }
                Assert.Equal(new[] { value }, used.Data);
            }
            output.WriteLine($"{Rounds} rounds, {kicked} kicked, {Rounds - kicked} served by polling");
        }
    }

    [Fact]
    public void Polling_still_serves_unkicked_chains_when_the_io_thread_is_confined_to_one_cpu()
    {
        // The spin yields between looks, so confining the IO thread to one CPU (a daemon pinned to its own core,
        // or sharing one with the guest) does not turn polling off. Pinning happens on the IO thread itself (new
        // .NET threads take the process's affinity, not their creator's).
        int ioThreadCpus = 0;
        using var harness = new BackendHarness(() => new EchoDevice
        {
            OnNotify = (_, _) => { PinToOneCpu(); Volatile.Write(ref ioThreadCpus, AffinityCpuCount()); },
        }, Polling(500_000));
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            Assert.True(Publish(vmm, 0, 1, eventIdx: true), "an idle device must want the first kick");
            vmm.Kick(0);
            Assert.Equal(new byte[] { 1 }, vmm.WaitUsed(0).Data);
            Until(() => KicksSuppressed(vmm, 0, eventIdx: true), "the spinning device suppresses kicks on one CPU too");
            Assert.False(Publish(vmm, 0, 2, eventIdx: true), "a driver must not kick while the device polls");
            Assert.Equal(new byte[] { 2 }, vmm.WaitUsed(0).Data);
            Assert.Equal(1, Volatile.Read(ref ioThreadCpus));
        }
    }

    [Fact]
    public void Without_polling_an_unkicked_chain_waits()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { EventIdx = false });
        using (vmm)
        {
            vmm.PutChain(0, [[1]], [1]);
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(0, Quiet));
            vmm.Kick(0);
            Assert.Equal(new byte[] { 1 }, vmm.WaitUsed(0).Data);
        }
    }

    [Fact]
    public void Ring_without_a_kick_fd_is_polled()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            ushort stopped = vmm.GetVringBase(0);
            vmm.StartRing(0, stopped);
            vmm.SetVringFd(VhostUserRequest.SetVringKick, 0, null);
            vmm.SetVringEnable(0, true);
            vmm.PutChain(0, [[6]], [1]);
            Assert.Equal(new byte[] { 6 }, vmm.WaitUsed(0).Data);
        }
    }

    private const int CpuSetBytes = 128;

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getaffinity(int pid, nuint cpusetsize, [Out] ulong[] mask);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nuint cpusetsize, ulong[] mask);

    /// <summary>Restrict the calling thread (only) to the first CPU it may use now.</summary>
    private static int AffinityCpuCount()
    {
        var mask = new ulong[CpuSetBytes / 8];
        if (sched_getaffinity(0, CpuSetBytes, mask) != 0) throw new InvalidOperationException($"sched_getaffinity: errno {Marshal.GetLastPInvokeError()}");
        return mask.Sum(m => System.Numerics.BitOperations.PopCount(m));
    }

    private static void PinToOneCpu()
    {
        var mask = new ulong[CpuSetBytes / 8];
        if (sched_getaffinity(0, CpuSetBytes, mask) != 0) throw new InvalidOperationException($"sched_getaffinity: errno {Marshal.GetLastPInvokeError()}");
        int cpu = Enumerable.Range(0, CpuSetBytes * 8).First(c => (mask[c / 64] & (1UL << (c % 64))) != 0);
        var one = new ulong[CpuSetBytes / 8];
        one[cpu / 64] = 1UL << (cpu % 64);
        if (sched_setaffinity(0, CpuSetBytes, one) != 0) throw new InvalidOperationException($"sched_setaffinity: errno {Marshal.GetLastPInvokeError()}");
    }
}

/// <summary>A theory about polling, which the back-end turns off when it may use a single CPU: skipped there.</summary>
public sealed class MultiCpuTheoryAttribute : TheoryAttribute
{
    public MultiCpuTheoryAttribute()
    {
        if (Environment.ProcessorCount < 2) Skip = "the driver and the polling IO thread need a CPU each for these timings";
    }
}
