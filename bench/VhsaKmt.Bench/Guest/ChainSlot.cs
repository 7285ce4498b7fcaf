namespace VhsaKmt.Bench.Guest;

/// <summary>
/// A reusable two-descriptor chain (device-readable request, device-writable response) with its own guest
/// buffers: set up once, re-posted for every submit, so the client's hot loop allocates nothing.
/// </summary>
public sealed unsafe class ChainSlot
{
    internal ChainSlot(ushort head, ushort tail, ulong requestGpa, byte* request, int requestCapacity, ulong responseGpa, byte* response, int responseCapacity)
    {
        Head = head;
        Tail = tail;
        RequestGpa = requestGpa;
        Request = request;
        RequestCapacity = requestCapacity;
        ResponseGpa = responseGpa;
        Response = response;
        ResponseCapacity = responseCapacity;
    }

    public ushort Head { get; }
    internal ushort Tail { get; }
    internal ulong RequestGpa { get; }
    internal ulong ResponseGpa { get; }

    /// <summary>The request buffer (this process's mapping of guest RAM).</summary>
    public byte* Request { get; }
    public int RequestCapacity { get; }

    /// <summary>The response buffer the device writes.</summary>
    public byte* Response { get; }
    public int ResponseCapacity { get; }

    public Span<byte> RequestSpan => new(Request, RequestCapacity);
    public ReadOnlySpan<byte> ResponseSpan => new(Response, ResponseCapacity);

    /// <summary>Who owns the slot while it is in flight (a context's index, for completions).</summary>
    public int Owner { get; set; }

    /// <summary>Stopwatch timestamp of the post (latency = completion − this).</summary>
    public long PostedAt { get; set; }

    /// <summary>Highest ccmd seqno carried by the submit in flight.</summary>
    public uint LastSeqno { get; set; }

    /// <summary>ccmds carried by the submit in flight.</summary>
    public int Ccmds { get; set; }

    public bool InFlight { get; set; }
}
