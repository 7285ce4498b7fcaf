using System.Globalization;
using VhsaKmt.Fuzz;

// vhsakmt-fuzz [--target NAME|all] [--repro FILE] [--write-seeds DIR] [--seconds N] [--max-execs N] [--seed N] [--corpus DIR] [--findings DIR] [--list]
// Corpus and findings folders get one sub-folder per target. Exit code 1 when anything was found.
var opts = new Dictionary<string, string>();
for (int i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) { Console.Error.WriteLine($"unexpected argument {args[i]}"); return 2; }
    string key = args[i][2..];
    opts[key] = key is "list" ? "" : (i + 1 < args.Length ? args[++i] : throw new ArgumentException($"--{key} needs a value"));
}
if (opts.ContainsKey("list"))
{
    foreach (var name in FuzzTargets.All.Keys) Console.WriteLine(name);
    return 0;
}

string which = opts.GetValueOrDefault("target", "all");
if (opts.TryGetValue("write-seeds", out var seedDir))
{
    // Dump the built-in seeds as corpus files (seed-NNN.bin per target).
    foreach (var (name, factory) in FuzzTargets.All)
    {
        using var t = factory();
        var dir = Path.Combine(seedDir, name);
        Directory.CreateDirectory(dir);
        int n = 0;
        foreach (var s in t.Seeds()) File.WriteAllBytes(Path.Combine(dir, $"seed-{n++:D3}.bin"), s);
    }
    return 0;
}
if (opts.TryGetValue("repro", out var reproFile))
{
    // Re-run one saved input (a finding or a corpus file) once and print what happens.
    using var t = FuzzTargets.All[which]();
    var failure = FuzzRunner.ExecuteOne(t, File.ReadAllBytes(reproFile));
    Console.WriteLine(failure is null ? "no failure" : failure.Reason);
    return failure is null ? 0 : 1;
}
double seconds = double.Parse(opts.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture);
long maxExecs = long.Parse(opts.GetValueOrDefault("max-execs", long.MaxValue.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
int seed = int.Parse(opts.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture);
string? corpus = opts.GetValueOrDefault("corpus");
string? findings = opts.GetValueOrDefault("findings");

var names = which == "all" ? FuzzTargets.All.Keys.ToList() : which.Split(',').ToList();
// A crash that takes the process down (e.g. on an IO thread) still leaves its input behind.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (FuzzRunner.Current is { } input && findings is not null)
    {
        Directory.CreateDirectory(findings);
        File.WriteAllBytes(Path.Combine(findings, "crash-unhandled.bin"), input);
        File.WriteAllText(Path.Combine(findings, "crash-unhandled.txt"), e.ExceptionObject.ToString());
    }
};

int found = 0;
foreach (var name in names)
{
    if (!FuzzTargets.All.TryGetValue(name, out var factory)) { Console.Error.WriteLine($"unknown target {name}"); return 2; }
    using var target = factory();
    var report = FuzzRunner.Run(target, TimeSpan.FromSeconds(seconds), maxExecs, seed,
        corpus is null ? null : Path.Combine(corpus, name), findings is null ? null : Path.Combine(findings, name));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{report.Target,-20} execs {report.Executions,9} corpus {report.CorpusSize,4} time {report.Elapsed.TotalSeconds,6:F1}s rate {report.ExecsPerSecond,8:F0}/s findings {report.Failures.Count}"));
    foreach (var f in report.Failures) Console.WriteLine($"  crash-{f.Id}: {f.Reason.Split('\n')[0]}");
    found += report.Failures.Count;
}
return found > 0 ? 1 : 0;
