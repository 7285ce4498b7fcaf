using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.Virtio;

/// <summary>
/// The backend→front-end request channel (vhost-user BACKEND_REQ). Requests are sent from any thread;
/// the reply arrives on the channel's own reader so the front-end socket keeps being served meanwhile
/// (QEMU sends SET_MEM_TABLE before it answers SHMEM_MAP: VHOST-USER.md §5).
/// </summary>
public interface IBackendChannel
{
    /// <summary>VHOST_USER_BACKEND_SHMEM_MAP (9): map [fdOffset, fdOffset+length) of <paramref name="fd"/> at <paramref name="shmOffset"/> of region <paramref name="shmId"/>. Result 0 = ok.</summary>
    Task<long> ShmemMapAsync(byte shmId, SafeHandle fd, ulong fdOffset, ulong shmOffset, ulong length, ShmemMapFlags flags, CancellationToken cancellationToken = default);

    /// <summary>VHOST_USER_BACKEND_SHMEM_UNMAP (10).</summary>
    Task<long> ShmemUnmapAsync(byte shmId, ulong shmOffset, ulong length, CancellationToken cancellationToken = default);
}

[Flags]
public enum ShmemMapFlags : ulong { None = 0, Read = 1, Write = 2 }
