using Akka.Configuration;

namespace VhsaKmt.Daemon;

/// <summary>The repository's HOCON.conf, embedded in vhsakmtd so the binary carries its own defaults.</summary>
public static class EmbeddedDefaults
{
    public const string ResourceName = "HOCON.conf";

    public static string Text()
    {
        using var stream = typeof(EmbeddedDefaults).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"resource {ResourceName} is missing from {typeof(EmbeddedDefaults).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static Config Config() => ConfigurationFactory.ParseString(Text());
}
