using OpenTelemetry;
using OpenTelemetry.Metrics;
using Serilog;

namespace VhsaKmt.Actors.Metrics;

/// <summary>
/// Exports the "VhsaKmt" meter through OpenTelemetry's Prometheus HttpListener exporter at
/// <c>&lt;listen&gt;metrics</c>. Disposing stops the listener.
/// </summary>
public sealed class PrometheusEndpoint : IDisposable
{
    private readonly MeterProvider _provider;

    private PrometheusEndpoint(MeterProvider provider, string scrapeUrl)
    {
        _provider = provider;
        ScrapeUrl = scrapeUrl;
    }

    public string ScrapeUrl { get; }

    /// <summary>Start the endpoint; null (and a warning) when it is disabled or the address cannot be bound.</summary>
    public static PrometheusEndpoint? Start(MetricsSettings settings, ILogger log)
    {
        if (!settings.Enabled) return null;
        _ = VhsaKmtMetrics.Meter; // the static constructor registers the gauges before the provider subscribes
        try
        {
            var provider = Sdk.CreateMeterProviderBuilder()
                .AddMeter(VhsaKmtMetrics.MeterName)
                .AddPrometheusHttpListener(o =>
                {
                    var uri = new Uri(settings.Listen);
                    o.Host = uri.Host;
                    o.Port = uri.Port;
                    o.ScrapeEndpointPath = "/metrics";
                    o.ScrapeResponseCacheDurationMilliseconds = 0; // a scrape right after an event sees it
                })
                .Build();
            var url = settings.Listen + "metrics";
            log.Information("metrics: Prometheus endpoint at {ScrapeUrl}", url);
            return new PrometheusEndpoint(provider, url);
        }
        catch (Exception e) when (e is System.Net.HttpListenerException or InvalidOperationException)
        {
            // The service runs without metrics rather than not at all (e.g. a second daemon on the same port).
            log.Warning(e, "metrics: cannot listen on {Listen}; metrics are off", settings.Listen);
            return null;
        }
    }

    public void Dispose() => _provider.Dispose();
}
