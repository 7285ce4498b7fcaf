using Akka.Configuration;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// Per-context limits and restart policy, from HOCON <c>vhsakmt.context</c> (every key has a default so a
/// partial or empty section works).
/// </summary>
public sealed record ContextSettings
{
    /// <summary>Objects a context may hold (parked + bound + deferred); over it → OUT_OF_RESOURCES.</summary>
    public int MaxObjects { get; init; } = 4096;

    /// <summary>Live queues per context; over it → OUT_OF_RESOURCES.</summary>
    public int MaxQueues { get; init; } = 128;

    /// <summary>Bytes of device-local (non-host) memory a context may allocate; 0 = unlimited. Over it → NO_MEMORY.</summary>
    public ulong VramQuotaBytes { get; init; }

    /// <summary>Supervisor: restarts allowed within <see cref="RestartWindow"/> before the context is stopped.</summary>
    public int MaxRestarts { get; init; } = 3;

    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>amdgpu DRM command indices (relative to DRM_COMMAND_BASE) DRM_CMD_WRITE_READ may name; 5 = AMDGPU_INFO (read-only).</summary>
    public IReadOnlyList<ulong> DrmCommandAllowlist { get; init; } = [5];

    public static ContextSettings Default { get; } = new();

    /// <summary>Reads the <c>vhsakmt.context</c> section; a null or empty section yields the defaults.</summary>
    public static ContextSettings FromConfig(Config? section)
    {
        var d = Default;
        if (section is null || section.IsEmpty)
            return d;
        var s = new ContextSettings
        {
            MaxObjects = section.GetInt("max-objects", d.MaxObjects),
            MaxQueues = section.GetInt("max-queues", d.MaxQueues),
            VramQuotaBytes = (ulong)(section.GetByteSize("vram-quota", 0) ?? 0),
            MaxRestarts = section.GetInt("max-restarts", d.MaxRestarts),
            RestartWindow = section.GetTimeSpan("restart-window", d.RestartWindow),
            DrmCommandAllowlist = section.HasPath("drm-command-allowlist")
                ? section.GetIntList("drm-command-allowlist").Select(i => (ulong)i).ToArray()
                : d.DrmCommandAllowlist,
        };
        if (s.MaxObjects <= 0 || s.MaxQueues <= 0 || s.MaxRestarts < 0 || s.RestartWindow <= TimeSpan.Zero)
            throw new ConfigurationException(
                $"vhsakmt.context: max-objects and max-queues must be > 0, max-restarts >= 0, restart-window > 0 (got {s})");
        return s;
    }
}
