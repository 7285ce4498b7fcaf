using System.Text.Json;
using System.Text.Json.Serialization;

namespace VhsaKmt.Bench.Processes;

/// <summary>JSON settings shared by children and the orchestrator (NaN survives the trip).</summary>
public static class BenchJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };
}
