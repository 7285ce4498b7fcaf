using Akka.Configuration;

namespace VhsaKmt.Actors.Metrics;

/// <summary>HOCON <c>vhsakmt.metrics</c>: whether the Prometheus endpoint runs and where (loopback by default).</summary>
public sealed record MetricsSettings(bool Enabled, string Listen)
{
    public static readonly MetricsSettings Default = new(true, "http://127.0.0.1:9464/");

    public static MetricsSettings From(Config root)
    {
        var c = root.GetConfig("vhsakmt.metrics");
        if (c is null || c.IsEmpty) return Default;
        var listen = c.GetString("listen", Default.Listen);
        if (!Uri.TryCreate(listen, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new ConfigurationException($"vhsakmt.metrics.listen: '{listen}' is not an http:// URL");
        // The endpoint carries per-guest process names: never on every interface.
        if (uri.Host is "0.0.0.0" or "*" or "+" or "[::]")
            throw new ConfigurationException($"vhsakmt.metrics.listen: '{listen}' listens on every interface; name one address");
        return new MetricsSettings(c.GetBoolean("enabled", Default.Enabled), listen.EndsWith('/') ? listen : listen + "/");
    }
}
