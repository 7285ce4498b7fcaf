using Akka.Actor;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// USERPTR: guest pages (HOST3D_GUEST + USE_USERPTR blob) mapped into the daemon back-to-back at a placeholder VA
/// (outside the device VA area), so the host and the GPU see the guest's bytes (PROTOCOL.md §2.8 step 4, §4.4).
/// </summary>
public sealed class UserptrObject(ulong placeholder, ulong size, GuestPageMapping mapping, bool readOnly) : KfdObject(placeholder, size)
{
    public override ObjectKind Kind => ObjectKind.Userptr;
    public override bool MappableAllowed => false;
    public GuestPageMapping Mapping { get; } = mapping;
    public bool ReadOnly { get; } = readOnly;
    public bool Registered { get; internal set; }
    public bool GpuMapped { get; internal set; }
    public IActorRef? Actor { get; internal set; }
}
