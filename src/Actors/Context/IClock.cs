namespace VhsaKmt.Actors.Context;

/// <summary>Time seam for the context (QUERY NANO_TIME, restart windows in logs); tests inject a fixed clock.</summary>
public interface IClock
{
    /// <summary>CLOCK_MONOTONIC in nanoseconds.</summary>
    ulong MonotonicNanoseconds { get; }
}

/// <summary>The real clock: <see cref="System.Diagnostics.Stopwatch"/> is CLOCK_MONOTONIC on Linux.</summary>
public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    public ulong MonotonicNanoseconds
    {
        get
        {
            long ticks = System.Diagnostics.Stopwatch.GetTimestamp();
            return (ulong)((UInt128)(ulong)ticks * 1_000_000_000UL / (ulong)System.Diagnostics.Stopwatch.Frequency);
        }
    }
}
