using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.VhostUser;

// Typed views of the current payload. Sizes were validated against RequestShapes before these are called;
// each read still copies out of the buffer (MemoryMarshal.Read) so a handler never holds a view into it.
public sealed partial class VhostUserReader
{
    public ulong ReadU64() => MemoryMarshal.Read<ulong>(Payload);

    public VringStatePayload ReadVringState() => MemoryMarshal.Read<VringStatePayload>(Payload);

    public VringAddrPayload ReadVringAddr() => MemoryMarshal.Read<VringAddrPayload>(Payload);

    public SingleMemoryRegionPayload ReadSingleRegion() => MemoryMarshal.Read<SingleMemoryRegionPayload>(Payload);

    public ShmemMapPayload ReadShmemMap() => MemoryMarshal.Read<ShmemMapPayload>(Payload);

    /// <summary>The memory table's regions (count already checked ≤ 8).</summary>
    public int ReadMemoryTable(Span<MemoryRegionPayload> regions)
    {
        var header = MemoryMarshal.Read<MemoryTableHeader>(Payload);
        int n = (int)header.RegionCount;
        for (int i = 0; i < n; i++)
            regions[i] = MemoryMarshal.Read<MemoryRegionPayload>(Payload[(MemoryTableHeader.Size + i * MemoryRegionPayload.Size)..]);
        return n;
    }

    /// <summary>Config header and the bytes after it.</summary>
    public ConfigHeader ReadConfig(out ReadOnlySpan<byte> data)
    {
        var header = MemoryMarshal.Read<ConfigHeader>(Payload);
        data = Payload.Slice(ConfigHeader.Size, (int)header.PayloadSize);
        return header;
    }
}
