namespace VhsaKmt.Transport.VhostUser;

// SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG.
public sealed partial class VhostUserConnection
{
    private Outcome OnSetMemTable()
    {
        Span<MemoryRegionPayload> regions = stackalloc MemoryRegionPayload[MemoryTableHeader.MaxRegions];
        int n = _reader.ReadMemoryTable(regions);
        // Fds arrive in region order; each TakeFd(0) takes the next one.
        _memory.Replace(regions[..n], _ => _reader.TakeFd(0));
        _log.Information("Memory table set: {Count} regions", n);
        return Outcome.Ok;
    }

    private Outcome OnAddMemReg()
    {
        var msg = _reader.ReadSingleRegion();
        _memory.Add(msg.Region, _reader.TakeFd(0));
        _log.Debug("Memory region added at gpa 0x{Gpa:x} size 0x{Size:x}", msg.Region.GuestPhysAddr, msg.Region.MemorySize);
        return Outcome.Ok;
    }

    private Outcome OnRemMemReg()
    {
        var msg = _reader.ReadSingleRegion();
        _memory.Remove(msg.Region);
        _log.Debug("Memory region removed at gpa 0x{Gpa:x} size 0x{Size:x}", msg.Region.GuestPhysAddr, msg.Region.MemorySize);
        return Outcome.Ok;
    }
}
