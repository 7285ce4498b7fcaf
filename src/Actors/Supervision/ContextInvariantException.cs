namespace VhsaKmt.Actors.Supervision;

/// <summary>
/// A broken invariant of a context's state object (tables disagree, an object released twice...). Restarting
/// around the same state would repeat the fault, so the supervisor stops the context (ordered release).
/// </summary>
public sealed class ContextInvariantException(string message) : Exception(message);

/// <summary>Thrown by the submit loop after it answered the ccmd whose handler failed, so the supervisor sees the fault.</summary>
public sealed class CcmdHandlerException(uint cmd, uint subtype, Exception inner)
    : Exception($"ccmd family {cmd} subtype {subtype} handler failed: {inner.Message}", inner)
{
    public uint Cmd { get; } = cmd;
    public uint Subtype { get; } = subtype;
}
