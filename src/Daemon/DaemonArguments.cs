using VhsaKmt.Actors.Hosting;

namespace VhsaKmt.Daemon;

/// <summary>What the daemon was asked to do.</summary>
public enum DaemonAction { Run, PrintCapabilities, Version, Help }

/// <summary>Console log encoding (<c>--log-format</c>).</summary>
public enum LogFormat { Text, Json }

/// <summary>The parsed command line. Null members were not given and fall back to HOCON.</summary>
public sealed record DaemonArguments(
    DaemonAction Action = DaemonAction.Run,
    string? SocketPath = null,
    int? ListenFd = null,
    BackendKind? Backend = null,
    string? ConfigFile = null,
    DaemonLogLevel? LogLevel = null,
    LogFormat? LogFormat = null,
    bool Stats = false);
