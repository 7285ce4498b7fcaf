namespace VhsaKmt.Actors.Objects;

/// <summary>Host object types of PROTOCOL.md §5.2 (QUEUE_MEM is a <see cref="MemoryObject"/> linked to a queue).</summary>
public enum ObjectKind
{
    HostMem,
    Userptr,
    Event,
    Queue,
    DoorbellPtr,
    DoorbellRwPtr,
    ScratchMapMem,
    DmaBuf,
    Shmem,
}
