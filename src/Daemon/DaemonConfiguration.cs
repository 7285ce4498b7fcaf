using Akka.Configuration;
using VhsaKmt.Actors.Hosting;

namespace VhsaKmt.Daemon;

/// <summary>The merged configuration and what the daemon itself reads from it.</summary>
public sealed record DaemonConfiguration(
    Config Config,
    BackendKind Backend,
    DaemonLogLevel LogLevel,
    LogFormat LogFormat,
    IReadOnlyList<string> UnknownKeys)
{
    /// <summary>
    /// Layers, highest first: command-line flags, the <c>--config</c> file, the embedded HOCON.conf.
    /// Throws <see cref="ConfigurationInvalidException"/> for an unreadable file or a bad value.
    /// </summary>
    public static DaemonConfiguration Load(DaemonArguments args, Config defaults)
    {
        var user = args.ConfigFile is { } file ? HoconFileParser.Parse(file, HoconFileParser.DefaultLimit) : Config.Empty;
        var merged = CommandLineOverrides(args).WithFallback(user).WithFallback(defaults);
        var level = ReadLevel(merged, "vhsakmt.log.level");
        // One level for both worlds: Akka must not drop events Serilog would show (or produce ones it hides).
        merged = ConfigurationFactory.ParseString($"akka.loglevel = {level.Akka}").WithFallback(merged);
        return new DaemonConfiguration(
            merged,
            Read(merged, "vhsakmt.backend", CommandLineParser.ParseBackend, "auto|hsakmt|simulated"),
            level,
            Read(merged, "vhsakmt.log.format", CommandLineParser.ParseLogFormat, "text|json"),
            UnknownConfigKeys.Find(user, defaults));
    }

    /// <summary>The flags that override HOCON, as a config fragment.</summary>
    public static Config CommandLineOverrides(DaemonArguments args)
    {
        var lines = new List<string>();
        if (args.SocketPath is { } path)
            lines.Add($"vhsakmt.socket-path = {HoconString.Quote(path)}");
        if (args.Backend is { } backend)
            lines.Add($"vhsakmt.backend = {backend.ToString().ToLowerInvariant()}");
        if (args.LogFormat is { } format)
            lines.Add($"vhsakmt.log.format = {format.ToString().ToLowerInvariant()}");
        if (args.LogLevel is { } level)
            lines.Add($"vhsakmt.log.level = {level.Name}");
        if (args.Stats)
            lines.Add($"vhsakmt.diagnostics.stats = on");
        return lines.Count == 0 ? Config.Empty : ConfigurationFactory.ParseString(string.Join('\n', lines));
    }

    private static T Read<T>(Config config, string path, Func<string, T?> parse, string allowed) where T : struct
        => parse((config.GetString(path, "") ?? "")) ?? throw Invalid(config, path, allowed);

    private static DaemonLogLevel ReadLevel(Config config, string path)
        => DaemonLogLevel.TryParse((config.GetString(path, "") ?? ""), out var level) ? level : throw Invalid(config, path, DaemonLogLevel.Names);

    private static ConfigurationInvalidException Invalid(Config config, string path, string allowed)
        => new($"{path} must be {allowed}, got '{(config.GetString(path, "") ?? "")}'");
}

/// <summary>The configuration cannot be used; the daemon reports the message and exits 2.</summary>
public sealed class ConfigurationInvalidException(string message, Exception? inner = null) : Exception(message, inner);
