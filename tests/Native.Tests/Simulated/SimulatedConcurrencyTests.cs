using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Tests.Simulated;

public class SimulatedConcurrencyTests
{
    [Fact]
    public async Task Parallel_contexts_allocate_signal_and_free_without_leaking()
    {
        using var f = new SimulatedFixture(new VhsaKmt.Native.Simulated.SimulatedKfdOptions());
        var slices = Enumerable.Range(0, 3).Select(_ => f.Va.ReserveSlice()!).ToList();
        var workers = slices.Select(slice => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var r = slice.Allocate(64 * 1024, 0);
                var va = r.Address;
                Assert.Equal(HsaStatus.Success, f.Kfd.AllocMemory(1, 64 * 1024, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.HostAccess), ref va));
                Assert.Equal(HsaStatus.Success, f.Kfd.CreateEvent(new HsaEventDescriptor(), false, false, out _, out var e));
                var wait = f.Kfd.WaitOnMultipleEventsAsync([e], true, uint.MaxValue, default);
                Assert.Equal(HsaStatus.Success, f.Kfd.SetEvent(e));
                Assert.Equal(HsaStatus.Success, await wait.WaitAsync(TimeSpan.FromSeconds(5)));
                Assert.Equal(HsaStatus.Success, f.Kfd.DestroyEvent(e));
                Assert.Equal(HsaStatus.Success, f.Kfd.FreeMemory(va, 64 * 1024));
                Assert.True(slice.Free(va).IsOk);
            }
        })).ToList();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(default, f.Kfd.Counters.Snapshot());
        Assert.Equal(1, f.Va.LiveBackingCount); // only the process-wide event page stays
        foreach (var s in slices) s.Dispose();
    }
}
