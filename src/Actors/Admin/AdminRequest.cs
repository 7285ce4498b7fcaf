using System.Globalization;
using System.Text.Json;

namespace VhsaKmt.Actors.Admin;

/// <summary>
/// One admin request line: a JSON object <c>{"cmd":"status"}</c>, <c>{"cmd":"health"}</c>,
/// <c>{"cmd":"kill-context","vm":"vm-1","ctx":3}</c>, or the same as words (<c>kill-context vm-1 3</c>) for socat users.
/// </summary>
public sealed record AdminRequest(string Cmd, string? Vm = null, uint Ctx = 0)
{
    public const int MaxLineLength = 4096;

    public static AdminRequest? Parse(string line, out string? error)
    {
        error = null;
        line = line.Trim();
        if (line.Length == 0) { error = "empty request"; return null; }
        if (line.Length > MaxLineLength) { error = $"request longer than {MaxLineLength} bytes"; return null; }
        return line[0] == '{' ? ParseJson(line, out error) : ParseWords(line, out error);
    }

    private static AdminRequest? ParseJson(string line, out string? error)
    {
        error = null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cmd", out var cmd) || cmd.ValueKind != JsonValueKind.String)
            {
                error = "expected an object with a string \"cmd\"";
                return null;
            }
            string? vm = root.TryGetProperty("vm", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            uint ctx = 0;
            if (root.TryGetProperty("ctx", out var c) && !(c.ValueKind == JsonValueKind.Number && c.TryGetUInt32(out ctx)))
            {
                error = "\"ctx\" must be an unsigned 32-bit number";
                return null;
            }
            return Validate(new AdminRequest(cmd.GetString()!, vm, ctx), out error);
        }
        catch (JsonException e)
        {
            error = "malformed JSON: " + e.Message;
            return null;
        }
    }

    private static AdminRequest? ParseWords(string line, out string? error)
    {
        var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (w[0] == "kill-context")
        {
            if (w.Length != 3 || !uint.TryParse(w[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ctx))
            {
                error = "usage: kill-context VM CTX";
                return null;
            }
            return Validate(new AdminRequest(w[0], w[1], ctx), out error);
        }
        if (w.Length != 1) { error = $"'{w[0]}' takes no arguments"; return null; }
        return Validate(new AdminRequest(w[0]), out error);
    }

    private static AdminRequest? Validate(AdminRequest r, out string? error)
    {
        error = r.Cmd switch
        {
            "status" or "health" => null,
            "kill-context" when string.IsNullOrEmpty(r.Vm) => "kill-context needs \"vm\"",
            "kill-context" when r.Ctx == 0 => "kill-context needs \"ctx\" (ctx 0 is never a context)",
            "kill-context" => null,
            _ => $"unknown command '{r.Cmd}' (status, health, kill-context)",
        };
        return error is null ? r : null;
    }
}
