using Akka.Configuration;
using VhsaKmt.Actors.Hosting;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vhsakmt-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string UserFile(string text)
    {
        var path = Path.Combine(_dir, "user.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private static DaemonArguments Args(string? config = null) => new(SocketPath: "/tmp/s.sock", ConfigFile: config);

    [Fact]
    public void EmbeddedDefaultsCarryEverySection()
    {
        var defaults = EmbeddedDefaults.Config();
        Assert.Equal("auto", defaults.GetString("vhsakmt.backend"));
        Assert.Equal("H25", defaults.GetString("vhsakmt.hsa-profile"));
        Assert.Equal("info", defaults.GetString("vhsakmt.log.level"));
        Assert.Equal("text", defaults.GetString("vhsakmt.log.format"));
        foreach (var section in new[] { "transport", "device", "context", "kfd", "admin" })
            Assert.True(defaults.HasPath($"vhsakmt.{section}"), section);
        Assert.Equal(["VhsaKmt.Actors.Logging.SerilogLogger, VhsaKmt.Actors"], defaults.GetStringList("akka.loggers"));
        Assert.Equal("ForkJoinDispatcher", defaults.GetString("akka.actor.vhsakmt-context-dispatcher.type"));
        Assert.Equal("ForkJoinDispatcher", defaults.GetString("akka.actor.vhsakmt-io-dispatcher.type"));
    }

    [Fact]
    public void EmbeddedDefaultsAreTheRepositoryHoconConf()
        => Assert.Equal(File.ReadAllText(RepoFiles.Path("HOCON.conf")), EmbeddedDefaults.Text());

    [Fact]
    public void DefaultsAloneResolveToAutoInfoText()
    {
        var c = DaemonConfiguration.Load(Args(), EmbeddedDefaults.Config());
        Assert.Equal(BackendKind.Auto, c.Backend);
        Assert.Equal("info", c.LogLevel.Name);
        Assert.Equal(LogFormat.Text, c.LogFormat);
        Assert.Empty(c.UnknownKeys);
        Assert.Equal("/tmp/s.sock", c.Config.GetString("vhsakmt.socket-path"));
        Assert.Equal("INFO", c.Config.GetString("akka.loglevel"));
    }

    [Fact]
    public void UserFileOverridesDefaultsAndFlagsOverrideTheFile()
    {
        var file = UserFile("vhsakmt { backend = simulated, log { level = debug, format = json } }");
        var fromFile = DaemonConfiguration.Load(Args(file), EmbeddedDefaults.Config());
        Assert.Equal(BackendKind.Simulated, fromFile.Backend);
        Assert.Equal("debug", fromFile.LogLevel.Name);
        Assert.Equal(LogFormat.Json, fromFile.LogFormat);
        Assert.Equal("DEBUG", fromFile.Config.GetString("akka.loglevel"));
        // Keys the file does not set still come from the defaults.
        Assert.Equal("H25", fromFile.Config.GetString("vhsakmt.hsa-profile"));

        DaemonLogLevel.TryParse("error", out var error);
        var flags = Args(file) with { Backend = BackendKind.HsaKmt, LogLevel = error, LogFormat = LogFormat.Text };
        var fromFlags = DaemonConfiguration.Load(flags, EmbeddedDefaults.Config());
        Assert.Equal(BackendKind.HsaKmt, fromFlags.Backend);
        Assert.Equal("error", fromFlags.LogLevel.Name);
        Assert.Equal(LogFormat.Text, fromFlags.LogFormat);
        Assert.Equal("ERROR", fromFlags.Config.GetString("akka.loglevel"));
    }

    [Fact]
    public void UnknownKeysUnderVhsakmtAreListedShallowestFirstAndOthersAreNot()
    {
        var file = UserFile("""
            vhsakmt {
              bakend = simulated
              log { level = debug, colour = on }
              transport { no-such-knob = 3 }
              typo-section { a = 1, b = 2 }
            }
            akka.some-user-setting = 1
            """);
        var c = DaemonConfiguration.Load(Args(file), EmbeddedDefaults.Config());
        Assert.Equal(
            new[] { "vhsakmt.bakend", "vhsakmt.log.colour", "vhsakmt.transport.no-such-knob", "vhsakmt.typo-section" }.Order(),
            c.UnknownKeys.Order());
        Assert.Equal("debug", c.LogLevel.Name);
    }

    [Fact]
    public void UnknownKeyFinderIsRelativeToTheDefaultsGiven()
    {
        var defaults = ConfigurationFactory.ParseString("vhsakmt { kfd { va-base = 1 } }");
        var user = ConfigurationFactory.ParseString("vhsakmt { kfd { va-base = 2, va-size = 3 } }");
        Assert.Equal(["vhsakmt.kfd.va-size"], UnknownConfigKeys.Find(user, defaults));
        Assert.Empty(UnknownConfigKeys.Find(Config.Empty, defaults));
    }

    [Theory]
    [InlineData("vhsakmt.backend = gpu", "vhsakmt.backend must be auto|hsakmt|simulated, got 'gpu'")]
    [InlineData("vhsakmt.log.format = xml", "vhsakmt.log.format must be text|json, got 'xml'")]
    [InlineData("vhsakmt.log.level = loud", "vhsakmt.log.level must be verbose|debug|info|warning|error|fatal, got 'loud'")]
    public void BadValuesAreRejectedWithTheirPath(string text, string expected)
    {
        var e = Assert.Throws<ConfigurationInvalidException>(() => DaemonConfiguration.Load(Args(UserFile(text)), EmbeddedDefaults.Config()));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void MissingAndMalformedFilesAreConfigurationErrors()
    {
        var missing = Path.Combine(_dir, "nope.conf");
        var e1 = Assert.Throws<ConfigurationInvalidException>(() => DaemonConfiguration.Load(Args(missing), EmbeddedDefaults.Config()));
        Assert.StartsWith($"cannot read config file '{missing}'", e1.Message);

        var bad = UserFile("vhsakmt { backend = ${no.such.key} }");
        var e2 = Assert.Throws<ConfigurationInvalidException>(() => DaemonConfiguration.Load(Args(bad), EmbeddedDefaults.Config()));
        Assert.StartsWith($"config file '{bad}' is not valid HOCON", e2.Message);
    }

    [Theory]
    [InlineData("/tmp/plain.sock")]
    [InlineData("/tmp/with space/and \"quotes\"/back\\slash.sock")]
    [InlineData("/tmp/${not.a.substitution}/#not-a-comment//x")]
    [InlineData("/tmp/ünïcode/tab\there")]
    public void SocketPathSurvivesTheConfigFragmentUnchanged(string path)
    {
        var c = DaemonConfiguration.CommandLineOverrides(new DaemonArguments(SocketPath: path));
        Assert.Equal(path, c.GetString("vhsakmt.socket-path"));
    }
}
