using VhsaKmt.Fuzz;
using Xunit;

namespace VhsaKmt.Robustness.Tests;

/// <summary>
/// Bounded slices of every fuzz target (seeds + corpus + a fixed number of mutations with a fixed seed), so CI runs the
/// same inputs every time; longer runs: tests/fuzz/run.sh. A finding fails the test with the input in hex.
/// </summary>
public sealed class FuzzSliceTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "../../../../fuzz/corpus");

    [Theory]
    [InlineData("chain-walker", 3000)]
    [InlineData("virtio-gpu-decoder", 3000)]
    [InlineData("vhost-user", 60)]
    [InlineData("ccmd-stream", 40)]
    public void Fuzz_slice_finds_nothing(string target, int executions)
    {
        using var t = FuzzTargets.All[target]();
        var report = FuzzRunner.Run(t, TimeSpan.FromSeconds(20), executions, seed: 20261127, Path.Combine(Corpus, target), findingsDir: null);
        Assert.True(report.Executions > 0);
        Assert.True(report.Failures.Count == 0,
            string.Join("\n", report.Failures.Select(f => $"{f.Reason.Split('\n')[0]} input={Convert.ToHexString(f.Input)}")));
    }

    /// <summary>The targets' own invariants can fail: a broken input is reported, not swallowed.</summary>
    [Fact]
    public void Runner_reports_a_broken_invariant()
    {
        using var t = new ThrowingTarget();
        var report = FuzzRunner.Run(t, TimeSpan.FromSeconds(5), 10, 1, null, null);
        Assert.Single(report.Failures);
        Assert.Equal("boom", report.Failures[0].Reason);
    }

    private sealed class ThrowingTarget : IFuzzTarget
    {
        public string Name => "throwing";
        public int MaxInputLength => 16;
        public IEnumerable<byte[]> Seeds() { yield return [1, 2, 3]; }
        public void Execute(ReadOnlySpan<byte> input) => throw new FuzzFinding("boom");
        public void Dispose() { }
    }
}
