using VhsaKmt.Actors.Hosting;

namespace VhsaKmt.Daemon;

/// <summary>The one human line printed once the service listens: where, which backend and why,
/// which GPUs, and the hypervisor flags that connect to it.</summary>
public static class StartupLine
{
    public static string Format(ServiceStarted started, string? socketPath)
    {
        var gpus = started.GpuNodes.Count == 0 ? "none" : string.Join(", ", started.GpuNodes);
        // With an inherited fd we do not know the path the hypervisor uses; show the listener description.
        var sock = socketPath ?? started.Listening;
        return $"vhsakmtd listening on {started.Listening}; backend {started.BackendName} ({started.BackendReason}); " +
               $"GPU nodes: {gpus}; " +
               $"QEMU 11.1: -chardev socket,id=vgpu,path={sock} " +
               "-device vhost-user-test-device-pci,chardev=vgpu,virtio-id=16,num_vqs=2,config_size=16 " +
               "-object memory-backend-memfd,id=mem0,share=on,size=<guest RAM> -machine memory-backend=mem0; " +
               $"crosvm: --vhost-user gpu,socket={sock}";
    }
}
