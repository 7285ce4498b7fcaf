using System.Text.Json;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The runtime settings vhsakmtd starts with: the runtimeconfig.json that `dotnet vhsakmtd.dll` reads.</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void Idle_thread_pool_workers_do_not_spin_on_the_daemons_cpus()
    {
        var path = Path.ChangeExtension(DaemonProcess.DaemonDll, ".runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var props = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, props.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
