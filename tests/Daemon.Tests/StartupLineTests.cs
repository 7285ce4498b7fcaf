using VhsaKmt.Actors.Hosting;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

public sealed class StartupLineTests
{
    [Fact]
    public void OneLineWithSocketBackendGpusAndHypervisorFlags()
    {
        var started = new ServiceStarted(Akka.Actor.ActorRefs.Nobody, "/run/vhsakmt.sock", "simulated", "no /dev/kfd",
            ["node 1: gfx1100"]);
        var line = StartupLine.Format(started, "/run/vhsakmt.sock");

        Assert.DoesNotContain('\n', line);
        Assert.Contains("backend simulated (no /dev/kfd)", line);
        Assert.Contains("GPU nodes: node 1: gfx1100", line);
        Assert.Contains("-chardev socket,id=vgpu,path=/run/vhsakmt.sock " +
                        "-device vhost-user-test-device-pci,chardev=vgpu,virtio-id=16,num_vqs=2,config_size=16", line);
        Assert.Contains("-object memory-backend-memfd,id=mem0,share=on,size=", line);
        Assert.Contains("-machine memory-backend=mem0", line);
        Assert.Contains("crosvm: --vhost-user gpu,socket=/run/vhsakmt.sock", line);
    }

    [Fact]
    public void NoGpuNodesIsSaidPlainly()
    {
        var started = new ServiceStarted(Akka.Actor.ActorRefs.Nobody, "fd 3", "hsakmt", "forced by --backend", []);
        Assert.Contains("GPU nodes: none", StartupLine.Format(started, null));
    }
}
