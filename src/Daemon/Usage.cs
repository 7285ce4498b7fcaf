using System.Reflection;

namespace VhsaKmt.Daemon;

/// <summary>Help and version text.</summary>
public static class Usage
{
    public static string Version =>
        typeof(Usage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Usage).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public static string Help => $"""
        Usage: vhsakmtd (--socket-path PATH | --fd N) [options]
               vhsakmtd --print-capabilities | --version | --help

        vhost-user virtio-gpu backend that serves ROCm (hsakmt native context, capset 8) to VMs.

          --socket-path PATH    listen for the hypervisor on the Unix socket PATH
          --fd N                listen on the already-bound Unix socket inherited as fd N
          --backend KIND        KFD backend: auto | hsakmt | simulated (default: HOCON vhsakmt.backend)
          --config FILE         HOCON file layered over the built-in defaults
          --log-level LEVEL     {DaemonLogLevel.Names}
          --log-format FORMAT   text | json
          --stats               log a resource line (fds, mappings, VA, KFD objects, actors, RSS) periodically
          --print-capabilities  print the vhost-user capabilities JSON and exit
          -V, --version         print the version and exit
          -h, --help            print this help and exit

        Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 if the service fails, 2 on bad usage or config.
        """;
}
