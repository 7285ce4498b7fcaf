using Akka.Actor;
using VhsaKmt.Actors.Supervisor;

namespace VhsaKmt.Actors.Admin;

/// <summary>Answers admin requests by asking the service's actors (each Ask bounded by the configured timeout).</summary>
public sealed class AdminQueries(ActorSystem system, IActorRef supervisor, TimeSpan timeout)
{
    private readonly DateTime _startedAt = DateTime.UtcNow;

    public async Task<StatusReport> StatusAsync()
    {
        var info = await supervisor.Ask<ServiceInfo>(GetServiceInfo.Instance, timeout);
        var devices = (await supervisor.Ask<DeviceList>(ListDevices.Instance, timeout)).Devices;
        var now = DateTime.UtcNow;
        var vms = new List<VmStatus>();
        foreach (var device in devices.Values)
        {
            DeviceStatus s;
            try
            {
                s = await device.Ask<DeviceStatus>(GetDeviceStatus.Instance, timeout);
            }
            catch (AskTimeoutException)
            {
                continue; // stopped (disconnect) between the list and the query
            }
            vms.Add(new VmStatus(s.VmId, s.Device, $"0x{s.AckedProtocolFeatures:x}", Math.Round((now - s.ConnectedAtUtc).TotalSeconds, 1), s.Contexts));
        }
        vms.Sort((a, b) => string.CompareOrdinal(a.Vm, b.Vm));
        var all = vms.SelectMany(v => v.Contexts).ToList();
        var totals = new Totals(vms.Count, all.Count, all.Sum(c => (long)c.Objects), (ulong)all.Sum(c => (decimal)c.MemoryBytes), all.Sum(c => (long)c.Queues));
        var daemon = new DaemonInfo(Environment.ProcessId, Math.Round((now - _startedAt).TotalSeconds, 1), info.Listening, info.BackendName, info.GpuNodes);
        return new StatusReport(daemon, vms, totals);
    }

    /// <summary>Live: the actor system runs. Ready: the supervisor answers (listener bound) and its KFD backend is open.</summary>
    public async Task<HealthReport> HealthAsync()
    {
        bool systemUp = !system.WhenTerminated.IsCompleted;
        bool listener = false, kfd = false;
        string detail = "ok";
        if (systemUp)
        {
            try
            {
                var info = await supervisor.Ask<ServiceInfo>(GetServiceInfo.Instance, timeout);
                listener = info.Listening.StartsWith("fd ", StringComparison.Ordinal) || File.Exists(info.Listening);
                if (!listener) detail = $"socket {info.Listening} is gone";
                var backend = await supervisor.Ask<BackendInfo>(GetBackend.Instance, timeout);
                kfd = backend.Kfd is not null;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                detail = "the service supervisor did not answer: " + e.Message;
            }
        }
        else detail = "actor system terminated";
        return new HealthReport(systemUp, systemUp && listener && kfd, systemUp, listener, kfd, detail);
    }

    public async Task<KillContextResult> KillContextAsync(string vm, uint ctx)
    {
        var devices = (await supervisor.Ask<DeviceList>(ListDevices.Instance, timeout)).Devices;
        if (!devices.TryGetValue(vm, out var device)) return new KillContextResult(false, $"no VM {vm} (connected: {string.Join(", ", devices.Keys.Order())})");
        return await device.Ask<KillContextResult>(new KillContext(ctx), timeout);
    }
}
