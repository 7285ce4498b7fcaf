using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// Walks one split-ring descriptor chain from a head index into readable and writable segments, trusting
/// nothing: every descriptor is read through <see cref="IRingMemory"/> from inside the table, indices are
/// checked against the table size, a chain longer than its table is a loop, indirect tables are one level
/// deep, writable segments may not precede readable ones, and every segment must lie inside guest memory.
/// Pure: no state, never throws on guest data (the error string says what was wrong).
/// </summary>
public static class ChainWalker
{
    /// <summary>Longest indirect table accepted, in descriptors (Linux never builds one longer than the queue).</summary>
    public const int MaxIndirectDescriptors = 1024;

    public static bool TryWalk(
        IRingMemory memory, ulong descTable, ushort queueSize, ushort head, bool indirectAllowed,
        List<GuestSegment> readable, List<GuestSegment> writable, out string? error)
    {
        readable.Clear();
        writable.Clear();
        if (queueSize == 0) { error = "queue size 0"; return false; }
        if (head >= queueSize) { error = $"head {head} >= queue size {queueSize}"; return false; }

        ulong table = descTable;
        uint tableSize = queueSize;
        uint index = head;
        uint visited = 0;
        bool inIndirect = false;
        ulong total = 0;
        Span<byte> raw = stackalloc byte[VringDesc.Size];

        while (true)
        {
            if (++visited > tableSize) { error = $"descriptor loop (more than {tableSize} descriptors)"; return false; }
            if (!memory.TryRead(table + index * (ulong)VringDesc.Size, raw))
            {
                error = $"descriptor {index} at 0x{table + index * (ulong)VringDesc.Size:x} outside guest memory";
                return false;
            }
            var desc = MemoryMarshal.Read<VringDesc>(raw);

            if ((desc.flags & VringConst.VRING_DESC_F_INDIRECT) != 0)
            {
                if (!indirectAllowed) { error = "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC"; return false; }
                if (inIndirect) { error = "nested indirect descriptor"; return false; }
                if ((desc.flags & VringConst.VRING_DESC_F_NEXT) != 0) { error = "indirect descriptor with NEXT"; return false; }
                if (desc.len == 0 || desc.len % VringDesc.Size != 0) { error = $"indirect table length {desc.len} not a multiple of 16"; return false; }
                uint count = desc.len / VringDesc.Size;
                if (count > MaxIndirectDescriptors) { error = $"indirect table of {count} descriptors"; return false; }
                if (!memory.Contains(desc.addr, desc.len)) { error = $"indirect table at 0x{desc.addr:x} outside guest memory"; return false; }
                // The indirect table replaces the rest of the chain: walk it from its entry 0.
                table = desc.addr;
                tableSize = count;
                index = 0;
                visited = 0;
                inIndirect = true;
                continue;
            }

            if (desc.len > 0)
            {
                if (!memory.Contains(desc.addr, desc.len))
                {
                    error = $"buffer [0x{desc.addr:x}, +{desc.len}) outside guest memory";
                    return false;
                }
                total += desc.len;
                if (total > uint.MaxValue) { error = "chain longer than 4 GiB"; return false; }
                var segment = new GuestSegment(desc.addr, desc.len);
                if ((desc.flags & VringConst.VRING_DESC_F_WRITE) != 0) writable.Add(segment);
                else if (writable.Count > 0) { error = "readable descriptor after a writable one"; return false; }
                else readable.Add(segment);
            }

            if ((desc.flags & VringConst.VRING_DESC_F_NEXT) == 0) { error = null; return true; }
            index = desc.next;
            if (index >= tableSize) { error = $"next {index} >= table size {tableSize}"; return false; }
        }
    }
}
