using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The systemd units in packaging/ agree with what the daemon actually accepts and does.</summary>
public sealed class PackagingTests
{
    private static Dictionary<string, List<string>> Keys(string unitFile)
    {
        var keys = new Dictionary<string, List<string>>();
        foreach (var raw in File.ReadAllLines(RepoFiles.Path(unitFile)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[')
                continue;
            var eq = line.IndexOf('=');
            var key = line[..eq];
            if (!keys.TryGetValue(key, out var values))
                keys[key] = values = [];
            values.Add(line[(eq + 1)..]);
        }
        return keys;
    }

    [Fact]
    public void ServiceIsNotifyTypeAndItsCommandLineParses()
    {
        var service = Keys("packaging/vhsakmtd.service");
        Assert.Equal(["notify"], service["Type"]);
        var exec = Assert.Single(service["ExecStart"]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("vhsakmtd", Path.GetFileName(exec[0]));
        var args = CommandLineParser.Parse(exec[1..], out var error);
        Assert.Null(error);
        // systemd passes the first (only) socket of vhsakmtd.socket as fd 3.
        Assert.Equal(3, args!.ListenFd);
    }

    [Fact]
    public void ServiceIsHardenedButKeepsTheGpuDevices()
    {
        var service = Keys("packaging/vhsakmtd.service");
        Assert.Equal(["yes"], service["NoNewPrivileges"]);
        Assert.Equal(["yes"], service["PrivateTmp"]);
        Assert.Equal(["closed"], service["DevicePolicy"]);
        Assert.Equal(["/dev/kfd rw", "char-drm rw"], service["DeviceAllow"]);
        Assert.False(service.ContainsKey("MemoryDenyWriteExecute"), "the .NET JIT needs W+X pages");
        // The metrics endpoint listens on the host's loopback: a private network namespace would hide it.
        Assert.False(service.ContainsKey("PrivateNetwork"));
        Assert.Equal(["/run/vhsakmt"], service["ReadWritePaths"]);
    }

    [Fact]
    public void SocketUnitListensOnAStreamSocketForTheService()
    {
        var socket = Keys("packaging/vhsakmtd.socket");
        Assert.StartsWith("/run/", Assert.Single(socket["ListenStream"]));
        Assert.Equal(["0660"], socket["SocketMode"]);
    }
}
