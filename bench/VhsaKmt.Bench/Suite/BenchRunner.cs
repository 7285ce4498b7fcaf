using System.Text.Json;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Report;

namespace VhsaKmt.Bench.Suite;

/// <summary>Runs the suite and writes RESULTS.md, results.png and results.json into the output directory.</summary>
public static class BenchRunner
{
    public static SuiteResults Run(SuiteOptions options, string repoDirectory, string command, TextWriter log)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var results = new BenchSuite(options, log).Run(repoDirectory);
        File.WriteAllText(Path.Combine(options.OutputDirectory, "results.json"), JsonSerializer.Serialize(results, BenchJson.Options));
        Render(options.OutputDirectory, repoDirectory, command);
        foreach (var line in ResultsDocument.Targets(results)) log.WriteLine(line);
        return results;
    }

    /// <summary>Re-render RESULTS.md and results.png from a results.json (e.g. after editing ANALYSIS.md), without measuring again.</summary>
    public static void Render(string directory, string repoDirectory, string command)
    {
        var results = JsonSerializer.Deserialize<SuiteResults>(File.ReadAllText(Path.Combine(directory, "results.json")), BenchJson.Options)
            ?? throw new InvalidDataException("empty results.json");
        string analysisPath = Path.Combine(repoDirectory, "bench", "ANALYSIS.md");
        string? analysis = File.Exists(analysisPath) ? File.ReadAllText(analysisPath) : null;
        File.WriteAllText(Path.Combine(directory, "RESULTS.md"), ResultsDocument.Render(results, command, analysis));
        ResultsPlot.Write(results, Path.Combine(directory, "results.png"));
    }

    /// <summary>The repository root: the nearest directory above <paramref name="start"/> holding VhsaKmt.sln.</summary>
    public static string FindRepository(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VhsaKmt.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no VhsaKmt.sln above {start}");
    }
}
