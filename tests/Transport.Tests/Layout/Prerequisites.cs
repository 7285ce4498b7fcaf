using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>What a layout test needs from the machine.</summary>
[Flags]
public enum Needs
{
    None = 0,
    /// <summary>shared/spec/layouts/*.json and shared/spec/PROTOCOL.md next to the repository.</summary>
    SharedSpec = 1,
    Gcc = 2,
    /// <summary>linux-libc-dev: linux/virtio_gpu.h, linux/virtio_ring.h, linux/vhost_types.h.</summary>
    LinuxHeaders = 4,
    /// <summary>libdrm-dev: libdrm/amdgpu.h, libdrm/amdgpu_drm.h.</summary>
    Libdrm = 8,
    /// <summary>libhsakmt-dev (Debian 5.2.3, profile D523): hsakmttypes.h.</summary>
    Hsakmt = 16,
}

/// <summary>
/// Checks the prerequisites. Locally a missing one skips the test (with the reason); with CI=true the test runs
/// and fails, because a CI job that silently skips layout checks proves nothing.
/// </summary>
internal static class Prerequisites
{
    public const string LinuxIncludeDir = "/usr/include/linux";
    public const string LibdrmIncludeDir = "/usr/include/libdrm";
    public const string HsakmtTypesHeader = "/usr/include/hsakmttypes.h";

    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The reason the first missing prerequisite is missing, or null when all are present.</summary>
    public static string? Missing(Needs needs)
    {
        if (needs.HasFlag(Needs.SharedSpec))
        {
            foreach (var f in new[] { RepoLocator.GNewLayoutJson, RepoLocator.ProtocolMd })
                if (!File.Exists(f))
                    return $"shared spec file missing: {f}";
        }
        if (needs.HasFlag(Needs.Gcc) && CCompiler.Path is null)
            return "gcc not found on PATH (apt-get install gcc)";
        if (needs.HasFlag(Needs.LinuxHeaders))
        {
            foreach (var h in new[] { "virtio_gpu.h", "virtio_ring.h", "vhost_types.h" })
                if (!File.Exists(System.IO.Path.Combine(LinuxIncludeDir, h)))
                    return $"{LinuxIncludeDir}/{h} missing (apt-get install linux-libc-dev)";
        }
        if (needs.HasFlag(Needs.Libdrm))
        {
            foreach (var h in new[] { "amdgpu.h", "amdgpu_drm.h" })
                if (!File.Exists(System.IO.Path.Combine(LibdrmIncludeDir, h)))
                    return $"{LibdrmIncludeDir}/{h} missing (apt-get install libdrm-dev)";
        }
        if (needs.HasFlag(Needs.Hsakmt) && !File.Exists(HsakmtTypesHeader))
            return $"{HsakmtTypesHeader} missing (apt-get install libhsakmt-dev)";
        return null;
    }

    /// <summary>Called at the start of a test: fails it with the reason (reached only in CI or when present).</summary>
    public static void Require(Needs needs)
    {
        var reason = Missing(needs);
        if (reason is not null)
            Assert.Fail($"layout test prerequisite missing (CI={IsCi}): {reason}");
    }

    /// <summary>The skip reason for a test attribute: null in CI (so the test fails there) or when all is present.</summary>
    public static string? SkipReason(Needs needs) => IsCi ? null : Missing(needs);
}

/// <summary>A fact that is skipped locally when <see cref="Needs"/> are missing and fails in CI.</summary>
public sealed class NeedsFactAttribute : FactAttribute
{
    public NeedsFactAttribute(Needs needs)
    {
        var reason = Prerequisites.SkipReason(needs);
        if (reason is not null)
            Skip = reason;
    }
}

/// <summary>A theory that is skipped locally when <see cref="Needs"/> are missing and fails in CI.</summary>
public sealed class NeedsTheoryAttribute : TheoryAttribute
{
    public NeedsTheoryAttribute(Needs needs)
    {
        var reason = Prerequisites.SkipReason(needs);
        if (reason is not null)
            Skip = reason;
    }
}
