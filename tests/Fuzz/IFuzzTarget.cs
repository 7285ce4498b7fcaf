namespace VhsaKmt.Fuzz;

/// <summary>
/// One guest-facing decoder under fuzz. <see cref="Execute"/> feeds it one input and checks its invariants; a broken
/// invariant throws <see cref="FuzzFinding"/>, and any other exception escaping the decoder is a finding too.
/// </summary>
public interface IFuzzTarget : IDisposable
{
    /// <summary>Short name: the corpus folder (tests/fuzz/corpus/&lt;name&gt;) and the CLI's --target.</summary>
    string Name { get; }

    /// <summary>Largest input worth generating.</summary>
    int MaxInputLength { get; }

    /// <summary>Built-in seeds (valid requests), used with the committed corpus.</summary>
    IEnumerable<byte[]> Seeds();

    void Execute(ReadOnlySpan<byte> input);
}

/// <summary>An invariant the target checks was broken by an input.</summary>
public sealed class FuzzFinding(string message) : Exception(message);
