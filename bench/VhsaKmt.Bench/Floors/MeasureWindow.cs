using System.Diagnostics;

namespace VhsaKmt.Bench.Floors;

/// <summary>
/// The time budget of one floor measurement, started once both sides are up. Warm-up ends after a number of
/// round trips or a tenth of the budget, whichever comes first, so a slow machine still yields samples.
/// </summary>
public readonly struct MeasureWindow(int limitMs)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly long _ticks = limitMs * Stopwatch.Frequency / 1000;

    public bool Expired => Stopwatch.GetTimestamp() - _start > _ticks;

    public bool PastWarmup(long iteration, long warmupIterations) =>
        iteration >= warmupIterations || Stopwatch.GetTimestamp() - _start > _ticks / 10;
}
