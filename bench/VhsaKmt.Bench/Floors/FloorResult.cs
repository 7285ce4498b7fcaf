using VhsaKmt.Bench.Stats;

namespace VhsaKmt.Bench.Floors;

/// <summary>What a floor measurer reports: its kind ("eventfd" / "spin"), regime and latency.</summary>
public sealed record FloorResult(string Kind, string Regime, LatencySummary Latency);
