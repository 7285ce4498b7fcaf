using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Metrics;

namespace VhsaKmt.Actors.Admin;

/// <summary>Reads a context's status from its state (under its lock), so status does not wait on a busy context actor.</summary>
public static class ContextStatusReader
{
    public static ContextStatus Read(uint ctx, string process, object state, string? lastError)
    {
        if (state is not ContextState s) return new ContextStatus(ctx, process, 0, 0, 0, 0, 0, 0, lastError);
        var (vram, system, userptr) = LiveContexts.MemoryOf(s);
        lock (s.Sync)
            return new ContextStatus(ctx, process, s.Objects.Count, vram + system + userptr, vram, s.LiveQueues, s.Ccmds, s.HandlerFaults, lastError);
    }
}
