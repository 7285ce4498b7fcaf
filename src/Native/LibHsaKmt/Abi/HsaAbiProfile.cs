namespace VhsaKmt.Native.LibHsaKmt.Abi;

/// <summary>Which hsakmttypes.h the HOST libhsakmt was built with (PROTOCOL.md §0.1, §4.9).</summary>
public enum HsaAbiProfile
{
    /// <summary>Debian libhsakmt1 5.2.3: HsaNodeProperties 356 bytes, HsaIoLinkProperties 48.</summary>
    D523,
    /// <summary>rocm-systems 2025 (the protocol's own types): HsaNodeProperties 368, HsaIoLinkProperties 52.</summary>
    H25,
}
