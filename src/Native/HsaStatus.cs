namespace VhsaKmt.Native;

/// <summary>HSAKMT_STATUS as the KFD thunk returns it (PROTOCOL.md §7.2); carried unchanged in ccmd <c>ret</c>.</summary>
public enum HsaStatus : int
{
    Success = 0,
    Error = 1,
    DriverMismatch = 2,
    InvalidParameter = 3,
    InvalidHandle = 4,
    InvalidNodeUnit = 5,
    NoMemory = 6,
    BufferTooSmall = 7,
    NotImplemented = 10,
    NotSupported = 11,
    Unavailable = 12,
    OutOfResources = 13,
    KernelIoChannelNotOpened = 20,
    KernelCommunicationError = 21,
    KernelAlreadyOpened = 22,
    HsammuUnavailable = 23,
    WaitFailure = 30,
    WaitTimeout = 31,
    MemoryAlreadyRegistered = 35,
    MemoryNotRegistered = 36,
    MemoryAlignment = 37,
}
