using VhsaKmt.Actors.Handlers;
using VhsaKmt.Transport.Hsakmt;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// One family of PROTOCOL.md §3.5: its G-new request/response sizes, where its subtype lives, the subtype table, and
/// the subtypes that must run on the context's actor (they create or stop lifetime actors: see <see cref="ContextFastPath"/>).
/// </summary>
public sealed record CcmdFamilyEntry(CcmdFamily Family, int RequestSize, int ResponseSize, int SubtypeOffset, CcmdHandler?[] Subtypes, uint[] ActorSubtypes)
{
    /// <summary>NOP has no response and no subtype.</summary>
    public bool HasResponse => ResponseSize > 0;
}

/// <summary>Family → (request size, response size, subtype handlers). Table-driven; unknown families and subtypes answer −22.</summary>
public static class CcmdDispatchTable
{
    private static readonly CcmdFamilyEntry?[] s_families = Build();

    private static CcmdFamilyEntry?[] Build()
    {
        var t = new CcmdFamilyEntry?[7];
        t[(int)CcmdFamily.Nop] = new(CcmdFamily.Nop, CcmdNopReq.Size, 0, -1, [], []);
        t[(int)CcmdFamily.QueryInfo] = new(CcmdFamily.QueryInfo, CcmdQueryInfoReq.Size, CcmdQueryInfoRsp.Size, 48, QueryHandlers.Table, []);
        t[(int)CcmdFamily.Event] = new(CcmdFamily.Event, CcmdEventReq.Size, CcmdEventRsp.Size, 80, EventHandlers.Table, []);
        t[(int)CcmdFamily.Memory] = new(CcmdFamily.Memory, CcmdMemoryReq.Size, CcmdMemoryRsp.Size, 304, MemoryHandlers.Table, MemoryHandlers.ActorSubtypes);
        t[(int)CcmdFamily.Queue] = new(CcmdFamily.Queue, CcmdQueueReq.Size, CcmdQueueRsp.Size, 124, QueueHandlers.Table, QueueHandlers.ActorSubtypes);
        t[(int)CcmdFamily.GlInter] = new(CcmdFamily.GlInter, CcmdGlInterReq.Size, CcmdGlInterRsp.Size, 40, GlInterHandlers.Table, []);
        return t;
    }

    /// <summary>Largest request struct of any family (size of the reusable zero-extension buffer).</summary>
    public const int MaxRequestSize = CcmdMemoryReq.Size;

    public static CcmdFamilyEntry? Lookup(uint cmd) => cmd < (uint)s_families.Length ? s_families[cmd] : null;
}
