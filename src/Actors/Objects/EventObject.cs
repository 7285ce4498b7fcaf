using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Actors.Objects;

/// <summary>EVENT: a KFD event. The guest sees <see cref="KfdObject.Id"/> as its event handle, never <see cref="KfdHandle"/>.</summary>
public sealed class EventObject(ulong kfdHandle, HsaEvent ev) : KfdObject(0, 72)
{
    public override ObjectKind Kind => ObjectKind.Event;
    public override bool MappableAllowed => false;
    public ulong KfdHandle { get; } = kfdHandle;
    public HsaEvent Event { get; } = ev;
}
