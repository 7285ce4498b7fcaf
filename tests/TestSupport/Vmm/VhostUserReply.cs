using System.Runtime.InteropServices;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>A reply the back-end sent: its header and a copy of its payload.</summary>
public sealed record VhostUserReply(VhostUserHeader Header, byte[] Payload)
{
    public ulong U64 => Payload.Length == 8 ? BitConverter.ToUInt64(Payload) : throw new InvalidOperationException($"reply payload is {Payload.Length} bytes, not a u64");

    public T As<T>() where T : unmanaged => MemoryMarshal.Read<T>(Payload);
}
