namespace VhsaKmt.Bench.Suite;

/// <summary>How big a run is. <see cref="Full"/> is the documented run (&lt; 10 min); <see cref="Smoke"/> is the CI slice (~30 s).</summary>
public sealed record SuiteOptions(
    bool Smoke,
    string OutputDirectory,
    int FloorSamples,
    int NopSamples,
    int MeasureMs,
    int WarmupMs,
    int RealCount,
    int[] ScaleContexts,
    int[] ScaleVms,
    int StartupRuns)
{
    public static SuiteOptions FullRun(string outDir) =>
        new(false, outDir, 50_000, 50_000, 4_000, 1_000, 2_000, [1, 4, 16, 64, 256], [1, 4], 5);

    public static SuiteOptions SmokeRun(string outDir) =>
        new(true, outDir, 2_000, 2_000, 400, 200, 100, [1, 4], [1], 1);
}
