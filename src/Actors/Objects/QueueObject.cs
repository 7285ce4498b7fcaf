using Akka.Actor;
using VhsaKmt.Native;

namespace VhsaKmt.Actors.Objects;

/// <summary>QUEUE: a KFD queue; <see cref="KfdObject.Id"/> is the non-zero opaque QueueId the guest sees.</summary>
public sealed class QueueObject(QueueCreated created, uint node, uint type, ulong ringSize) : KfdObject(0, ringSize)
{
    public override ObjectKind Kind => ObjectKind.Queue;
    public override bool MappableAllowed => false;
    public QueueCreated Created { get; } = created;
    public ulong KfdHandle => Created.QueueHandle;
    public uint Node { get; } = node;
    public uint Type { get; } = type;

    /// <summary>Ring buffer memory (queue_mem_res_id) and AQL r/w-pointer memory (res_id), now QUEUE_MEM.</summary>
    public MemoryObject? Ring { get; internal set; }
    public MemoryObject? RwMemory { get; internal set; }

    /// <summary>hsaKmtDestroyQueue done.</summary>
    public bool Destroyed { get; internal set; }
    public IActorRef? Actor { get; internal set; }
}
