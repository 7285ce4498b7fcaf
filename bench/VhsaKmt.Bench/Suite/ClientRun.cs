using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Workloads;

namespace VhsaKmt.Bench.Suite;

/// <summary>Runs one client child against a daemon; with <c>onPhase</c> the client stops at each phase until told to go on.</summary>
public static class ClientRun
{
    public static T Run<T>(ClientOptions options, int? cpu, Action<string>? onPhase = null)
    {
        options = options with { Sync = onPhase is not null };
        using var client = ChildProcess.StartBench($"client-{options.Label}", cpu, options.ToArgs());
        var timeout = TimeSpan.FromMilliseconds(options.MeasureMs + options.WarmupMs + 120_000);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var line = client.ReadLine(TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64)));
            if (line.StartsWith("PHASE ", StringComparison.Ordinal))
            {
                if (onPhase is null) continue;
                onPhase(line[6..]);
                client.Send("GO");
            }
            else if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                var result = System.Text.Json.JsonSerializer.Deserialize<T>(line[7..], BenchJson.Options)
                    ?? throw new InvalidDataException("empty client result");
                client.WaitExit(TimeSpan.FromSeconds(20));
                return result;
            }
        }
    }
}
