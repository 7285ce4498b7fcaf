using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Simulated;

/// <summary>A simulated KFD over its own small VA manager and virtual clock; disposes both.</summary>
internal sealed class SimulatedFixture : IDisposable
{
    public SimulatedFixture(SimulatedKfdOptions? options = null)
    {
        var o = options ?? new SimulatedKfdOptions();
        Va = new VaManager(TestVa.Options(gpuNodes: o.Gpus.Count) with { DoorbellWindowSize = 8UL << 20 });
        Time = new ManualTimeProvider();
        Kfd = new SimulatedKfd(o, Va, Time);
        Slice = Va.ReserveSlice()!;
    }

    public VaManager Va { get; }
    public ManualTimeProvider Time { get; }
    public SimulatedKfd Kfd { get; }
    public VaSlice Slice { get; }

    public const uint Gpu = 1;

    /// <summary>FixedAddress allocation at a fresh slice VA.</summary>
    public ulong Alloc(ulong size, uint node = Gpu, uint extraFlags = HsaMemFlags.NonPaged | HsaMemFlags.HostAccess)
    {
        var r = Slice.Allocate(size, 0);
        Assert.True(r.IsOk, r.Status.ToString());
        var address = r.Address;
        Assert.Equal(HsaStatus.Success, Kfd.AllocMemory(node, size, new HsaMemFlags(HsaMemFlags.FixedAddress | extraFlags), ref address));
        Assert.Equal(r.Address, address);
        return address;
    }

    public void Dispose()
    {
        Kfd.Dispose();
        Slice.Dispose();
        Va.Dispose();
    }
}
