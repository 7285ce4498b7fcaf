namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>Which QEMU build runs a guest.</summary>
public enum QemuRuntime
{
    /// <summary>QEMU 11.1 from trixie-backports, run inside the trixie chroot (the only one that carries a native context).</summary>
    Chroot111,
    /// <summary>The host's own QEMU 10.0 from bookworm-backports (<c>/usr/bin/qemu-system-x86_64</c>), no chroot.</summary>
    Host100,
}
