namespace VhsaKmt.Bench.Workloads;

/// <summary>Phase lines the client prints ("PHASE name"); with sync on it then waits for "GO" on stdin.</summary>
public sealed class ClientPhases(bool sync)
{
    public void Reached(string name)
    {
        Console.Out.WriteLine($"PHASE {name}");
        Console.Out.Flush();
        if (!sync) return;
        var line = Console.In.ReadLine();
        if (line is null || line.Trim() != "GO") throw new InvalidOperationException($"expected GO after phase {name}, got '{line}'");
    }
}
