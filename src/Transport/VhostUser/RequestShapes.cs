namespace VhsaKmt.Transport.VhostUser;

/// <summary>How a request's payload size is determined.</summary>
internal enum PayloadRule
{
    /// <summary>Exactly <see cref="RequestShape.Size"/> bytes.</summary>
    Exact,
    /// <summary>Memory table header + nregions × region (nregions ≤ 8).</summary>
    MemoryTable,
    /// <summary>Config header + its size field (≤ 256) bytes.</summary>
    Config,
}

/// <summary>How many fds a request carries.</summary>
internal enum FdRule
{
    None,
    One,
    /// <summary>One per memory region.</summary>
    PerRegion,
    /// <summary>Vring kick/call/err: one, or none when bit 8 of the u64 is set.</summary>
    VringFd,
    /// <summary>Zero or one (REM_MEM_REG: some front-ends attach the region's fd).</summary>
    ZeroOrOne,
}

internal readonly record struct RequestShape(PayloadRule Rule, int Size, FdRule Fds);

/// <summary>
/// The table of what each supported front-end request must look like. A request not in the table is
/// unsupported; one that does not match its row is a (non-fatal) protocol error.
/// </summary>
internal static class RequestShapes
{
    private static readonly Dictionary<VhostUserRequest, RequestShape> Table = new()
    {
        [VhostUserRequest.GetFeatures] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.SetFeatures] = new(PayloadRule.Exact, 8, FdRule.None),
        [VhostUserRequest.SetOwner] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.ResetOwner] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.SetMemTable] = new(PayloadRule.MemoryTable, MemoryTableHeader.Size, FdRule.PerRegion),
        [VhostUserRequest.SetVringNum] = new(PayloadRule.Exact, VringStatePayload.Size, FdRule.None),
        [VhostUserRequest.SetVringAddr] = new(PayloadRule.Exact, VringAddrPayload.Size, FdRule.None),
        [VhostUserRequest.SetVringBase] = new(PayloadRule.Exact, VringStatePayload.Size, FdRule.None),
        [VhostUserRequest.GetVringBase] = new(PayloadRule.Exact, VringStatePayload.Size, FdRule.None),
        [VhostUserRequest.SetVringKick] = new(PayloadRule.Exact, 8, FdRule.VringFd),
        [VhostUserRequest.SetVringCall] = new(PayloadRule.Exact, 8, FdRule.VringFd),
        [VhostUserRequest.SetVringErr] = new(PayloadRule.Exact, 8, FdRule.VringFd),
        [VhostUserRequest.GetProtocolFeatures] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.SetProtocolFeatures] = new(PayloadRule.Exact, 8, FdRule.None),
        [VhostUserRequest.GetQueueNum] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.SetVringEnable] = new(PayloadRule.Exact, VringStatePayload.Size, FdRule.None),
        [VhostUserRequest.SetBackendReqFd] = new(PayloadRule.Exact, 0, FdRule.One),
        [VhostUserRequest.GetConfig] = new(PayloadRule.Config, ConfigHeader.Size, FdRule.None),
        [VhostUserRequest.SetConfig] = new(PayloadRule.Config, ConfigHeader.Size, FdRule.None),
        [VhostUserRequest.GpuSetSocket] = new(PayloadRule.Exact, 0, FdRule.One),
        [VhostUserRequest.ResetDevice] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.GetMaxMemSlots] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.AddMemReg] = new(PayloadRule.Exact, SingleMemoryRegionPayload.Size, FdRule.One),
        [VhostUserRequest.RemMemReg] = new(PayloadRule.Exact, SingleMemoryRegionPayload.Size, FdRule.ZeroOrOne),
        [VhostUserRequest.SetStatus] = new(PayloadRule.Exact, 8, FdRule.None),
        [VhostUserRequest.GetStatus] = new(PayloadRule.Exact, 0, FdRule.None),
        [VhostUserRequest.GetShmemConfig] = new(PayloadRule.Exact, 0, FdRule.None),
    };

    public static bool IsSupported(VhostUserRequest request) => Table.ContainsKey(request);

    /// <summary>Null when the message matches its row; otherwise why not.</summary>
    public static string? Validate(VhostUserRequest request, ReadOnlySpan<byte> payload, int fdCount)
    {
        if (!Table.TryGetValue(request, out var shape)) return $"unsupported request {(uint)request}";

        int expected;
        int regions = 0;
        switch (shape.Rule)
        {
            case PayloadRule.Exact:
                expected = shape.Size;
                break;
            case PayloadRule.MemoryTable:
                if (payload.Length < MemoryTableHeader.Size) return $"payload {payload.Length} < memory table header";
                uint n = BitConverter.ToUInt32(payload);
                if (n > MemoryTableHeader.MaxRegions) return $"{n} memory regions > {MemoryTableHeader.MaxRegions}";
                regions = (int)n;
                expected = MemoryTableHeader.Size + regions * MemoryRegionPayload.Size;
                break;
            case PayloadRule.Config:
                if (payload.Length < ConfigHeader.Size) return $"payload {payload.Length} < config header";
                uint size = BitConverter.ToUInt32(payload[4..]);
                if (size > ConfigHeader.MaxPayload) return $"config size {size} > {ConfigHeader.MaxPayload}";
                expected = ConfigHeader.Size + (int)size;
                break;
            default:
                throw new InvalidOperationException($"no payload rule {shape.Rule}");
        }
        if (payload.Length != expected) return $"payload size {payload.Length}, expected {expected}";

        bool fdsOk = shape.Fds switch
        {
            FdRule.None => fdCount == 0,
            FdRule.One => fdCount == 1,
            FdRule.PerRegion => fdCount == regions,
            FdRule.VringFd => fdCount == ((BitConverter.ToUInt64(payload) & VringFdPayload.NoFdFlag) != 0 ? 0 : 1),
            FdRule.ZeroOrOne => fdCount <= 1,
            _ => throw new InvalidOperationException($"no fd rule {shape.Fds}"),
        };
        return fdsOk ? null : $"{fdCount} fds do not match the request ({shape.Fds})";
    }
}
