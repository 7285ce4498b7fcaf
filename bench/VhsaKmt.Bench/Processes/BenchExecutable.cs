namespace VhsaKmt.Bench.Processes;

/// <summary>How to start this bench program again as a child process (through the dotnet host, so it works
/// the same from `dotnet run`, the built dll, or a test that references the project).</summary>
public static class BenchExecutable
{
    public static string DllPath => typeof(BenchExecutable).Assembly.Location;

    public static string DotnetHost
    {
        get
        {
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
            var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
            return "dotnet";
        }
    }

    public static IReadOnlyList<string> Command(IEnumerable<string> args) => [DotnetHost, DllPath, .. args];

    /// <summary>Result line a child prints for the orchestrator.</summary>
    public static void EmitResult<T>(T value)
    {
        Console.Out.WriteLine("RESULT " + System.Text.Json.JsonSerializer.Serialize(value, BenchJson.Options));
        Console.Out.Flush();
    }
}
