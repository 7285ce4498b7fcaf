using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.Fuzz.Targets;

/// <summary>
/// The vhost-user message parser and request handlers of a real <see cref="VhostUserConnection"/> on a socketpair.
/// Input: frames of [u8 spec][u16 length][bytes]; each frame's bytes go out in one sendmsg with spec&amp;3 fds attached
/// (eventfds, or memfds filled with the input when bit 2 is set) — so fds ride on arbitrary byte boundaries and counts
/// mismatch their messages. Bit 3 signals the sent eventfds afterwards (a kick). Then the front-end hangs up.
/// Invariants: the connection closes within 3 s of the hang-up (nothing wedges its IO thread), and every fd it
/// received is closed again (fd count and memfd mappings back to the baseline).
/// </summary>
public sealed class VhostUserTarget : IFuzzTarget
{
    private const string MemfdName = "vhsakmt-fuzz-guest";
    private static readonly VhostUserOptions Options = new() { ReceiveTimeout = TimeSpan.FromMilliseconds(200) };

    public VhostUserTarget()
    {
        // Warm up: the first connection loads code and opens runtime files that stay open.
        foreach (var seed in Seeds()) FuzzRunner.ExecuteOne(this, seed);
    }

    public string Name => "vhost-user";
    public int MaxInputLength => 2048;

    public IEnumerable<byte[]> Seeds()
    {
        const ulong userBase = 0x7f00_0000_0000;
        var handshake = new List<byte>();
        void Frame(byte spec, VhostUserRequest request, ReadOnlySpan<byte> payload, uint flags = VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag)
        {
            var msg = new byte[VhostUserHeader.Size + payload.Length];
            var h = new VhostUserHeader { Request = (uint)request, Flags = flags, PayloadSize = (uint)payload.Length };
            MemoryMarshal.Write(msg, in h);
            payload.CopyTo(msg.AsSpan(VhostUserHeader.Size));
            handshake.Add(spec);
            handshake.Add((byte)msg.Length);
            handshake.Add((byte)(msg.Length >> 8));
            handshake.AddRange(msg);
        }
        byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
        byte[] Bytes<T>(T v) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in v)).ToArray();

        Frame(0, VhostUserRequest.GetFeatures, []);
        Frame(0, VhostUserRequest.GetProtocolFeatures, []);
        Frame(0, VhostUserRequest.SetProtocolFeatures, U64(0x400629));
        Frame(0, VhostUserRequest.SetOwner, []);
        Frame(0, VhostUserRequest.SetFeatures, U64(1UL << 32 | 1UL << 29 | 1UL << 28 | 1UL << 30));
        var table = new byte[MemoryTableHeader.Size + MemoryRegionPayload.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(table, 1);
        var region = new MemoryRegionPayload { GuestPhysAddr = 0, MemorySize = 64 << 10, UserAddr = userBase, MmapOffset = 0 };
        MemoryMarshal.Write(table.AsSpan(MemoryTableHeader.Size), in region);
        Frame(1 | 4, VhostUserRequest.SetMemTable, table);
        Frame(0, VhostUserRequest.SetVringNum, Bytes(new VringStatePayload { Index = 0, Num = 64 }));
        Frame(0, VhostUserRequest.SetVringBase, Bytes(new VringStatePayload { Index = 0, Num = 0 }));
        Frame(0, VhostUserRequest.SetVringAddr, Bytes(new VringAddrPayload { Index = 0, DescUserAddr = userBase, AvailUserAddr = userBase + 0x400, UsedUserAddr = userBase + 0x1000 }));
        Frame(1 | 8, VhostUserRequest.SetVringKick, U64(0));
        Frame(1, VhostUserRequest.SetVringCall, U64(0));
        Frame(0, VhostUserRequest.SetVringEnable, Bytes(new VringStatePayload { Index = 0, Num = 1 }));
        var config = new byte[ConfigHeader.Size];
        Frame(0, VhostUserRequest.GetConfig, [.. WithSize(config, 16), .. new byte[16]]);
        Frame(0, VhostUserRequest.GetShmemConfig, []);
        Frame(0, VhostUserRequest.GetVringBase, Bytes(new VringStatePayload { Index = 0 }));
        yield return handshake.ToArray();

        // A memory table whose fd count does not match (2 fds for 1 region), then 0 fds for 1 region.
        handshake.Clear();
        Frame(2 | 4, VhostUserRequest.SetMemTable, table);
        Frame(0, VhostUserRequest.SetMemTable, table);
        Frame(1, VhostUserRequest.GetFeatures, []);
        yield return handshake.ToArray();
    }

    private static byte[] WithSize(byte[] configHeader, uint size)
    {
        var c = (byte[])configHeader.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), size);
        return c;
    }

    public void Execute(ReadOnlySpan<byte> input)
    {
        var fdsBefore = FdTable.Snapshot();
        var (client, server) = UnixSocket.Pair();
        var model = new NullDeviceModel();
        var connection = new VhostUserConnection(server, "vm-fuzz", model, Options, Serilog.Core.Logger.None);
        var sent = new List<SafeHandle>();
        var kicks = new List<FdHandle>();
        try
        {
            connection.Start();
            UnixSocket.SetReceiveTimeout(client, TimeSpan.FromMilliseconds(50));
            int off = 0;
            var drain = new byte[4096];
            using var replies = new System.Net.Sockets.Socket(new System.Net.Sockets.SafeSocketHandle(client.DangerousGetHandle(), ownsHandle: false));
            Span<SafeHandleRef> refBuffer = stackalloc SafeHandleRef[3];
            while (input.Length - off >= 3)
            {
                byte spec = input[off];
                int len = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[(off + 1)..]), input.Length - off - 3);
                var bytes = input.Slice(off + 3, len);
                off += 3 + len;
                var refs = refBuffer[..(spec & 3)];
                for (int i = 0; i < refs.Length; i++)
                {
                    SafeHandle fd;
                    if ((spec & 4) != 0)
                    {
                        var memfd = Memfd.Create(MemfdName, 64 << 10, seal: false);
                        using (var view = Mmap.MapShared(memfd, 0, 64 << 10))
                            for (int at = 0; at < (64 << 10); at += Math.Max(1, input.Length))
                                input[..Math.Min(input.Length, (64 << 10) - at)].CopyTo(view.AsSpan((ulong)at, Math.Min(input.Length, (64 << 10) - at)));
                        fd = memfd;
                    }
                    else
                    {
                        var efd = EventFd.Create();
                        if ((spec & 8) != 0) kicks.Add(efd);
                        fd = efd;
                    }
                    sent.Add(fd);
                    refs[i] = SafeHandleRef.Of(fd);
                }
                if (bytes.Length == 0 && refs.Length == 0) continue;
                if (bytes.Length == 0) break; // fds cannot travel without a byte
                if (!SocketIo.SendAll(client, bytes, refs)) break;
                foreach (var k in kicks) EventFd.Signal(k);
                DrainReplies(replies, drain);
            }
            UnixSocket.Shutdown(client);
            if (!connection.WaitClosed(TimeSpan.FromSeconds(3)))
                throw new FuzzFinding("connection did not close within 3 s after the front-end hung up");
        }
        finally
        {
            connection.Dispose();
            client.Dispose();
            foreach (var fd in sent) fd.Dispose();
        }
        var leaked = FdTable.Snapshot().Except(fdsBefore).ToList();
        if (leaked.Count > 0) throw new FuzzFinding($"fd leak after the connection closed: {leaked.Count} fds ({string.Join(", ", leaked.Take(6))})");
        if (CountMemfdMappings() != 0) throw new FuzzFinding("a guest memory mapping outlived its connection");
    }

    /// <summary>Read whatever replies are pending so the back-end never blocks on a full socket buffer.</summary>
    private static void DrainReplies(System.Net.Sockets.Socket client, byte[] buffer)
    {
        while (client.Available > 0 && client.Receive(buffer) > 0) { }
    }

    internal static int CountFds() => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();

    private static int CountMemfdMappings() => File.ReadLines("/proc/self/maps").Count(l => l.Contains(MemfdName, StringComparison.Ordinal));

    public void Dispose() { }
}
