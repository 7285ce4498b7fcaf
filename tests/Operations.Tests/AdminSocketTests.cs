using System.Text.Json;
using VhsaKmt.Actors.Admin;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using Xunit;

namespace VhsaKmt.Operations.Tests;

[Collection(OperationsCollection.Name)]
public sealed class AdminSocketTests
{
    [Fact]
    public async Task Status_shows_two_vms_with_their_contexts_as_table_and_json()
    {
        await using var d = await OperationsDaemon.StartAsync();
        var gpuA = new GuestGpu(d.Connect());
        var a1 = OperationsDaemon.Process(gpuA, "rocminfo");
        var a2 = OperationsDaemon.Process(gpuA, "hipcc-test");
        var gpuB = new GuestGpu(d.Connect());
        var b1 = OperationsDaemon.Process(gpuB, "pytorch");
        Assert.Equal(0, a1.OpenKfd().Ret);
        Assert.Equal(0, a1.AllocMemory(0, 0x2000, HsaMemFlags.HostAccess).Ret);
        var vms = (await d.DevicesAsync()).Keys.Order().ToArray();
        Assert.Equal(2, vms.Length);

        var (code, table, err) = OperationsDaemon.Cli("status", "--socket-path", d.SocketPath);
        Assert.True(code == 0, err);
        Assert.Contains("2 VM(s), 3 context(s)", table);
        Assert.Contains($"{vms[0]} (device-", table);
        Assert.Contains($"{vms[1]} (device-", table);
        Assert.Contains("rocminfo", table);
        Assert.Contains("pytorch", table);

        (code, var json, err) = OperationsDaemon.Cli("status", "--json", "--admin-socket", d.AdminPath);
        Assert.True(code == 0, err);
        var r = JsonSerializer.Deserialize<AdminResponse>(json, AdminJson.Options)!;
        Assert.True(r.Ok);
        var byVm = r.Status!.Vms.ToDictionary(v => v.Vm);
        Assert.Equal(2, byVm.Count);
        var vmA = byVm.Values.Single(v => v.Contexts.Any(c => c.Process == "rocminfo"));
        var vmB = byVm.Values.Single(v => v.Contexts.Any(c => c.Process == "pytorch"));
        Assert.Equal(["rocminfo", "hipcc-test"], vmA.Contexts.Select(c => c.Process));
        Assert.Single(vmB.Contexts);
        var rocminfo = vmA.Contexts.Single(c => c.CtxId == a1.CtxId);
        Assert.True(rocminfo.Objects >= 1, "the allocation is a live object");
        Assert.True(rocminfo.MemoryBytes >= 0x2000, $"memory {rocminfo.MemoryBytes}");
        Assert.Equal(a1.LastSeqno, (uint)rocminfo.Ccmds);
        Assert.Equal(3, r.Status.Totals.Contexts);
        Assert.Equal(b1.CtxId, vmB.Contexts[0].CtxId);
        Assert.Equal(a2.CtxId, vmA.Contexts[1].CtxId);
    }

    [Fact]
    public async Task Kill_context_tears_down_exactly_that_context_and_the_others_keep_serving()
    {
        await using var d = await OperationsDaemon.StartAsync();
        var gpuA = new GuestGpu(d.Connect());
        var victim = OperationsDaemon.Process(gpuA, "victim");
        var sibling = OperationsDaemon.Process(gpuA, "sibling");
        var vmA = (await d.DevicesAsync()).Keys.Single();
        var other = OperationsDaemon.Process(new GuestGpu(d.Connect()), "other-vm");
        Assert.Equal(0, victim.OpenKfd().Ret);
        Assert.Equal(0, victim.AllocMemory(0, 0x1000, HsaMemFlags.HostAccess).Ret);

        var (code, output, err) = OperationsDaemon.Cli("ctl", "kill-context", vmA, victim.CtxId.ToString(), "--admin-socket", d.AdminPath);
        Assert.True(code == 0, err);
        Assert.Contains("victim", output);

        await OperationsDaemon.Eventually(async () => LiveContextsOf(await StatusAsync(d), vmA) == 1, "victim gone from status");
        // The killed context's next SUBMIT_3D is refused: the guest sees an error, not a hang.
        Assert.Equal(VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, victim.OpenKfd().SubmitStatus);
        Assert.Equal(0, sibling.GetSystemProperties().Ret);
        Assert.Equal(0, other.GetSystemProperties().Ret);
        var status = await StatusAsync(d);
        Assert.Equal(2, status.Totals.Contexts);
        Assert.Equal("sibling", status.Vms.Single(v => v.Vm == vmA).Contexts.Single().Process);

        // Unknown VM / context: refused with a reason, exit 1, nothing torn down.
        (code, _, err) = OperationsDaemon.Cli("ctl", "kill-context", vmA, "999", "--admin-socket", d.AdminPath);
        Assert.Equal(1, code);
        Assert.Contains("no context 999", err);
        (code, _, err) = OperationsDaemon.Cli("ctl", "kill-context", "vm-none", "1", "--admin-socket", d.AdminPath);
        Assert.Equal(1, code);
        Assert.Contains("no VM vm-none", err);
        Assert.Equal(2, (await StatusAsync(d)).Totals.Contexts);
    }

    [Fact]
    public async Task Health_answers_live_and_ready()
    {
        await using var d = await OperationsDaemon.StartAsync();
        var server = d.Ops.Admin!;
        var r = await server.AnswerAsync("{\"cmd\":\"health\"}");
        Assert.True(r.Ok);
        Assert.True(r.Health!.Live);
        Assert.True(r.Health.Ready, r.Health.Detail);
        Assert.True(r.Health.ListenerBound);
        Assert.True(r.Health.KfdInitialised);

        // The socket file is private to the daemon's user.
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(d.AdminPath));
    }

    [Fact]
    public async Task Malformed_requests_get_an_error_answer_and_the_connection_keeps_serving()
    {
        await using var d = await OperationsDaemon.StartAsync();
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        s.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(d.AdminPath));
        using var stream = new System.Net.Sockets.NetworkStream(s);
        using var reader = new StreamReader(stream);
        using var writer = new StreamWriter(stream) { NewLine = "\n", AutoFlush = true };
        foreach (var bad in new[] { "{\"cmd\":", "{\"cmd\":\"reboot\"}", "kill-context vm-1", "{\"cmd\":\"kill-context\",\"vm\":\"vm-1\",\"ctx\":-1}" })
        {
            await writer.WriteLineAsync(bad);
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var r = JsonSerializer.Deserialize<AdminResponse>(line!, AdminJson.Options)!;
            Assert.False(r.Ok, bad);
            Assert.False(string.IsNullOrEmpty(r.Error));
        }
        await writer.WriteLineAsync("health");
        var ok = JsonSerializer.Deserialize<AdminResponse>((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!, AdminJson.Options)!;
        Assert.True(ok.Health!.Ready);
    }

    [Fact]
    public void Cli_usage_errors_exit_2_and_an_absent_daemon_exits_1()
    {
        Assert.Equal(2, OperationsDaemon.Cli("status", "--bogus").Code);
        Assert.Equal(2, OperationsDaemon.Cli("ctl", "kill-context", "vm-1", "zero").Code);
        Assert.Equal(2, OperationsDaemon.Cli("ctl", "kill-context", "vm-1", "0").Code);
        Assert.Equal(2, OperationsDaemon.Cli("status", "--admin-socket", "/a", "--socket-path", "/b").Code);
        var (code, _, err) = OperationsDaemon.Cli("status", "--admin-socket", "/nonexistent/vhsakmt.admin");
        Assert.Equal(1, code);
        Assert.Contains("cannot talk to the daemon", err);
    }

    private static async Task<StatusReport> StatusAsync(OperationsDaemon d)
    {
        var r = await d.Ops.Admin!.AnswerAsync("status");
        Assert.True(r.Ok, r.Error);
        return r.Status!;
    }

    private static int LiveContextsOf(StatusReport s, string vm) => s.Vms.Single(v => v.Vm == vm).Contexts.Count;
}
