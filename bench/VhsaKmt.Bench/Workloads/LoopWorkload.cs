using System.Diagnostics;
using VhsaKmt.Bench.Guest;
using VhsaKmt.Bench.Processes;
using VhsaKmt.Bench.Stats;

namespace VhsaKmt.Bench.Workloads;

/// <summary>
/// The NOP loop: every context keeps <c>InFlight</c> SUBMIT_3Ds of <c>Batch</c> NOPs in flight (closed loop:
/// a completion re-posts its chain at once), one thread per VM. InFlight = Batch = 1 with one context is the
/// synchronous round trip of the ROCm guest; more contexts or VMs is the scaling run.
/// </summary>
public sealed class LoopWorkload(ClientOptions options)
{
    private volatile bool _stop;

    public int Run()
    {
        var phases = new ClientPhases(options.Sync);
        int perVmMax = (options.Contexts + options.Vms - 1) / options.Vms;
        int queueSize = NextPow2(Math.Max(64, 2 * (perVmMax * options.InFlight + 2)));
        var vms = new List<BenchVm>();
        var contexts = new List<BenchContext>[options.Vms];
        var openUs = new LatencyRecorder(options.Contexts);
        var closeUs = new LatencyRecorder(options.Contexts);
        try
        {
            for (int v = 0; v < options.Vms; v++) vms.Add(BenchVm.Connect(options.Socket, v, queueSize));
            phases.Reached("connected");

            int requestBytes = Math.Max(256, 64 + options.Batch * 16);
            for (int v = 0; v < options.Vms; v++)
            {
                contexts[v] = new List<BenchContext>();
                int count = options.Contexts / options.Vms + (v < options.Contexts % options.Vms ? 1 : 0);
                for (int c = 0; c < count; c++)
                {
                    var ctx = new BenchContext(vms[v], (uint)(c + 1), options.InFlight, requestBytes);
                    openUs.Record(Ticks(ctx.Open()));
                    contexts[v].Add(ctx);
                }
            }
            phases.Reached("contexts");

            // Warm-up: JIT, caches, pools on both sides; nothing recorded.
            RunAll(vms, contexts, options.WarmupMs, null, out _, out _);
            phases.Reached("warm");
            var recorders = Enumerable.Range(0, options.Vms).Select(_ => new LatencyRecorder(Math.Max(1, options.Samples / options.Vms))).ToArray();
            long kicksBefore = vms.Sum(vm => (long)vm.Queue.Kicks);
            RunAll(vms, contexts, options.MeasureMs, recorders, out long ccmds, out double seconds);
            long kicks = vms.Sum(vm => (long)vm.Queue.Kicks) - kicksBefore;
            phases.Reached("measured");

            foreach (var list in contexts)
                foreach (var ctx in list) closeUs.Record(Ticks(ctx.Close()));

            var all = new LatencyRecorder(recorders.Sum(r => r.Count));
            foreach (var r in recorders) all.AddFrom(r);
            BenchExecutable.EmitResult(new ClientResult(options.Label, options.Vms, options.Contexts, options.Batch, options.InFlight,
                options.Wait.ToString().ToLowerInvariant(), all.Summarize(), all.Count, ccmds, seconds, ccmds / seconds,
                openUs.Summarize(), closeUs.Summarize(), kicks, vms[0].Queue.EventIdx));
            return 0;
        }
        finally
        {
            foreach (var vm in vms) vm.Dispose();
        }
    }

    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    private static int NextPow2(int n)
    {
        int p = 1;
        while (p < n) p <<= 1;
        return Math.Min(p, 32768);
    }

    private void RunAll(List<BenchVm> vms, List<BenchContext>[] contexts, int durationMs, LatencyRecorder[]? recorders, out long ccmds, out double seconds)
    {
        _stop = false;
        long[] done = new long[vms.Count];
        Exception? failure = null;
        var threads = new Thread[vms.Count];
        long t0 = Stopwatch.GetTimestamp();
        for (int v = 0; v < vms.Count; v++)
        {
            int vi = v;
            threads[v] = new Thread(() =>
            {
                try
                {
                    done[vi] = RunVm(vms[vi], contexts[vi], durationMs, recorders?[vi]);
                }
                catch (Exception e)
                {
                    failure ??= e;
                    _stop = true;
                }
            }) { IsBackground = true, Name = $"vm-{vi}" };
            threads[v].Start();
        }
        foreach (var t in threads)
        {
            if (!t.Join(durationMs + 20_000)) throw new TimeoutException("a VM thread did not finish");
        }
        seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (failure is not null) throw new InvalidOperationException("VM thread failed", failure);
        ccmds = done.Sum();
    }

    /// <summary>One VM's closed loop; returns the ccmds completed.</summary>
    private long RunVm(BenchVm vm, List<BenchContext> contexts, int durationMs, LatencyRecorder? recorder)
    {
        var queue = vm.Queue;
        if (contexts.Count == 0) return 0;
        for (int c = 0; c < contexts.Count; c++)
        {
            foreach (var slot in contexts[c].Slots)
            {
                slot.Owner = c;
                Post(queue, contexts[c], slot);
            }
        }
        queue.KickIfNeeded();
        long deadline = Stopwatch.GetTimestamp() + durationMs * Stopwatch.Frequency / 1000;
        long completed = 0;
        int inFlight = contexts.Count * contexts[0].Slots.Length;
        bool stopping = false;
        int idle = 0;
        while (inFlight > 0)
        {
            bool any = false;
            while (queue.TryTakeUsed(out _) is { } slot)
            {
                any = true;
                var ctx = contexts[slot.Owner];
                // The fence retires after seqno is published (§3.4); anything else is a daemon bug.
                if (!ctx.Reached(slot.LastSeqno)) throw new InvalidOperationException($"ctx {ctx.CtxId}: fence before seqno {slot.LastSeqno}");
                long now = Stopwatch.GetTimestamp();
                recorder?.Record(now - slot.PostedAt);
                completed += slot.Ccmds;
                if (!stopping && (now >= deadline || _stop || (recorder?.IsFull ?? false))) stopping = true;
                if (stopping) inFlight--;
                else Post(queue, ctx, slot);
            }
            if (any)
            {
                idle = 0;
                queue.KickIfNeeded();
                continue;
            }
            // No timeout: a poll(2) with one arms and cancels an hrtimer per wait, a kernel cost the floor's blocking
            // read does not pay (perf: ~1 µs per round trip). A daemon that never answers ends in the join timeout.
            if (options.Wait == WaitMode.Block) queue.WaitForCall(-1);
            else if (++idle > 64) Thread.Yield(); // sched_yield: on a shared CPU the daemon must get to run
            if (Stopwatch.GetTimestamp() > deadline + 10 * Stopwatch.Frequency) throw new TimeoutException($"vm {vm.Index}: {inFlight} submits never completed");
        }
        if (options.Wait == WaitMode.Spin) queue.DrainCall();
        return completed;
    }

    private void Post(ControlQueue queue, BenchContext ctx, ChainSlot slot)
    {
        int len = ctx.WriteNops(slot, options.Batch);
        slot.PostedAt = Stopwatch.GetTimestamp();
        queue.Post(slot, len);
    }
}
