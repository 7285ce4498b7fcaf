using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// The front-end's setup of one queue (SET_VRING_NUM/ADDR/BASE/KICK/CALL/ERR/ENABLE) and, once started,
/// the live <see cref="SplitVirtqueue"/>. Touched only by the connection's IO thread, except
/// <see cref="Published"/>, which other threads read.
/// </summary>
internal sealed class VringSlot
{
    public VringSlot(int index) => Index = index;

    public int Index { get; }
    public ushort Num;
    public VringAddrPayload? Addr;
    public ushort Base;
    public FdHandle? Kick;
    /// <summary>SET_VRING_KICK with the "no fd" bit: the front-end will not kick, we must poll.</summary>
    public bool KickPolled;
    public FdHandle? Call;
    public FdHandle? Err;
    public bool Enabled;
    public SplitVirtqueue? Queue;

    private SplitVirtqueue? _published;

    /// <summary>The queue as the device model sees it: set only while started and enabled.</summary>
    public SplitVirtqueue? Published
    {
        get => Volatile.Read(ref _published);
        set => Volatile.Write(ref _published, value);
    }

    public bool IsLive => Queue is not null && Enabled;

    /// <summary>Close every fd this slot owns and forget the ring (the queue's call fd is taken back first).</summary>
    public void Clear()
    {
        Published = null;
        if (Queue is { } q)
        {
            q.Stop();
            q.TakeCall()?.Dispose();
            Queue = null;
        }
        Kick?.Dispose(); Kick = null;
        Call?.Dispose(); Call = null;
        Err?.Dispose(); Err = null;
        KickPolled = false;
        Enabled = false;
        Addr = null;
        Num = 0;
        Base = 0;
    }
}
