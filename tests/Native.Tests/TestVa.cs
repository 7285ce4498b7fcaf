using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests;

/// <summary>Small VA managers at distinct bases so parallel test classes never collide.</summary>
internal static class TestVa
{
    private static long _next;

    public static VaOptions Options(int slices = 4, ulong sliceSize = 1UL << 30, int gpuNodes = 1, ulong scratch = 256UL << 20) =>
        new()
        {
            Base = 0x2000_0000_0000UL + (ulong)Interlocked.Increment(ref _next) * (64UL << 30),
            SliceCount = slices,
            SliceSize = sliceSize,
            GpuNodeCount = gpuNodes,
            ScratchSizePerNode = scratch,
            DoorbellWindowSize = 1UL << 20,
        };

    public static VaManager Create(int slices = 4, ulong sliceSize = 1UL << 30, int gpuNodes = 1) =>
        new(Options(slices, sliceSize, gpuNodes));
}
