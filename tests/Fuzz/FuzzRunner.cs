using System.Diagnostics;
using System.Security.Cryptography;

namespace VhsaKmt.Fuzz;

/// <summary>A finding: the input that broke an invariant (or threw) and why.</summary>
public sealed record FuzzFailure(string Target, byte[] Input, string Reason)
{
    public string Id => Convert.ToHexString(SHA1.HashData(Input))[..16].ToLowerInvariant();
}

/// <summary>What one bounded run did.</summary>
public sealed record FuzzReport(string Target, long Executions, int CorpusSize, TimeSpan Elapsed, IReadOnlyList<FuzzFailure> Failures)
{
    public double ExecsPerSecond => Elapsed.TotalSeconds > 0 ? Executions / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Runs one target for a bounded time or number of executions: every seed and corpus file first, then mutations of
/// randomly chosen corpus entries. Inputs that fail are kept (deduplicated) and, when a findings folder is given,
/// written there as crash-&lt;sha1&gt;.bin. The input being executed is published in <see cref="Current"/> so a process
/// crash handler can save it.
/// </summary>
public static class FuzzRunner
{
    /// <summary>The input under execution (for the unhandled-exception handler of the CLI).</summary>
    public static volatile byte[]? Current;

    public static FuzzReport Run(IFuzzTarget target, TimeSpan budget, long maxExecutions, int seed, string? corpusDir, string? findingsDir)
    {
        var corpus = new List<byte[]>(target.Seeds());
        if (corpusDir is not null && Directory.Exists(corpusDir))
            corpus.AddRange(Directory.GetFiles(corpusDir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes));
        if (corpus.Count == 0) corpus.Add([]);

        var rng = new Random(seed);
        var mutator = new Mutator(rng, target.MaxInputLength);
        var failures = new Dictionary<string, FuzzFailure>();
        var clock = Stopwatch.StartNew();
        long executions = 0;

        bool More() => executions < maxExecutions && clock.Elapsed < budget;

        foreach (var input in corpus.ToArray())
        {
            if (!More()) break;
            ExecuteOne(target, input, failures);
            executions++;
        }
        while (More())
        {
            var input = mutator.Mutate(corpus[rng.Next(corpus.Count)], corpus);
            ExecuteOne(target, input, failures);
            executions++;
        }
        Current = null;

        if (findingsDir is not null && failures.Count > 0)
        {
            Directory.CreateDirectory(findingsDir);
            foreach (var f in failures.Values)
            {
                File.WriteAllBytes(Path.Combine(findingsDir, $"crash-{f.Id}.bin"), f.Input);
                File.WriteAllText(Path.Combine(findingsDir, $"crash-{f.Id}.txt"), f.Reason + Environment.NewLine);
            }
        }
        return new FuzzReport(target.Name, executions, corpus.Count, clock.Elapsed, failures.Values.ToList());
    }

    /// <summary>Run one input; a failure is recorded by its first line of reason so one bug is reported once.</summary>
    public static FuzzFailure? ExecuteOne(IFuzzTarget target, byte[] input, Dictionary<string, FuzzFailure>? failures = null)
    {
        Current = input;
        try
        {
            target.Execute(input);
            return null;
        }
        catch (Exception e)
        {
            var reason = e is FuzzFinding ? e.Message : e.ToString();
            var failure = new FuzzFailure(target.Name, input, reason);
            var key = e.GetType().Name + ":" + reason.Split('\n')[0];
            if (failures is not null && !failures.ContainsKey(key)) failures[key] = failure;
            return failure;
        }
    }
}
