namespace VhsaKmt.TestSupport.Vmm;

/// <summary>
/// A chain the device put on the used ring: <paramref name="Token"/> is the head index
/// <see cref="TestRing.PutChain"/> returned, <paramref name="Written"/> the length the device reported, and
/// <paramref name="Data"/> the first <paramref name="Written"/> bytes of the chain's writable buffers.
/// </summary>
public sealed record UsedChain(ushort Token, uint Written, byte[] Data);
