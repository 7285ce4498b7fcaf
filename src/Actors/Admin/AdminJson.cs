using System.Text.Json;

namespace VhsaKmt.Actors.Admin;

/// <summary>JSON options of the admin protocol (snake_case names, nulls omitted); the CLI reads with the same options.</summary>
public static class AdminJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true };
}
