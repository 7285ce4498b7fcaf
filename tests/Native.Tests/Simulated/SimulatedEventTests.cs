using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Tests.Simulated;

public class SimulatedEventTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    private static ulong NewEvent(SimulatedFixture f, bool manual = false, bool signaled = false, uint type = 0)
    {
        var desc = new HsaEventDescriptor { EventType = type, NodeId = 1 };
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateEvent(desc, manual, signaled, out _, out var handle));
        Assert.NotEqual(0UL, handle);
        return handle;
    }

    [Fact]
    public void Signal_event_gets_a_real_slot_in_the_event_page()
    {
        using var f = new SimulatedFixture();
        var desc = new HsaEventDescriptor { EventType = 0, NodeId = 1 };
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateEvent(desc, false, false, out var ev, out var h1));
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateEvent(desc, false, false, out var ev2, out _));
        Assert.Equal(ev.EventId, (uint)ev.EventData.HWData1);
        Assert.Equal(8UL, ev2.EventData.HWData2 - ev.EventData.HWData2);
        Assert.True(f.Va.DoorbellWindow.Contains(ev.EventData.HWData2, 8));
        Assert.Equal(-1L, Marshal.ReadInt64((nint)ev.EventData.HWData2)); // UNSIGNALED
        Assert.Equal(2, f.Kfd.Counters.Events);
        Assert.Equal(HsaStatus.Success, f.Kfd.DestroyEvent(h1));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.DestroyEvent(h1));
        Assert.Equal(1, f.Kfd.Counters.Events);
    }

    [Fact]
    public void Bad_descriptors_and_handles_are_refused()
    {
        using var f = new SimulatedFixture();
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.CreateEvent(new HsaEventDescriptor { EventType = 42 }, false, false, out _, out _));
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.CreateEvent(new HsaEventDescriptor { NodeId = 9 }, false, false, out _, out _));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.SetEvent(12345));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.ResetEvent(12345));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.QueryEventState(12345));
        var memoryEvent = NewEvent(f, type: 8);
        Assert.Equal(HsaStatus.Error, f.Kfd.SetEvent(memoryEvent)); // only signal events are set from user space
    }

    [Fact]
    public void QueryEventState_validates_only_as_the_thunk_does()
    {
        using var f = new SimulatedFixture();
        var e = NewEvent(f);
        Assert.Equal(HsaStatus.Success, f.Kfd.QueryEventState(e));
        f.Kfd.SetEvent(e);
        Assert.Equal(HsaStatus.Success, f.Kfd.QueryEventState(e));
    }

    [Fact]
    public async Task Zero_timeout_wait_polls_and_auto_reset_is_consumed()
    {
        using var f = new SimulatedFixture();
        var auto = NewEvent(f);
        var manual = NewEvent(f, manual: true);
        Assert.Equal(HsaStatus.WaitTimeout, await f.Kfd.WaitOnMultipleEventsAsync([auto], true, 0, default));
        f.Kfd.SetEvent(auto);
        f.Kfd.SetEvent(manual);
        Assert.Equal(HsaStatus.Success, await f.Kfd.WaitOnMultipleEventsAsync([auto], true, 0, default));
        Assert.Equal(HsaStatus.WaitTimeout, await f.Kfd.WaitOnMultipleEventsAsync([auto], true, 0, default));
        Assert.Equal(HsaStatus.Success, await f.Kfd.WaitOnMultipleEventsAsync([manual], true, 0, default));
        Assert.Equal(HsaStatus.Success, await f.Kfd.WaitOnMultipleEventsAsync([manual], true, 0, default));
        f.Kfd.ResetEvent(manual);
        Assert.Equal(HsaStatus.WaitTimeout, await f.Kfd.WaitOnMultipleEventsAsync([manual], true, 0, default));
    }

    [Fact]
    public async Task Wait_times_out_on_virtual_time_only()
    {
        using var f = new SimulatedFixture();
        var e = NewEvent(f);
        var wait = f.Kfd.WaitOnMultipleEventsAsync([e], true, 1000, default);
        f.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted);
        f.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HsaStatus.WaitTimeout, await wait.WaitAsync(Guard));
        Assert.Equal(0, f.Time.ActiveTimers);
    }

    [Fact]
    public async Task Set_wakes_a_blocked_waiter_off_the_callers_thread()
    {
        using var f = new SimulatedFixture();
        var e = NewEvent(f);
        var wait = f.Kfd.WaitOnMultipleEventsAsync([e], false, uint.MaxValue, default);
        Assert.False(wait.IsCompleted);
        Assert.Equal(HsaStatus.Success, f.Kfd.SetEvent(e));
        Assert.Equal(HsaStatus.Success, await wait.WaitAsync(Guard));
        Assert.False(f.Kfd.IsEventSignaled(e)); // auto-reset consumed by the waiter
    }

    [Fact]
    public async Task Wait_all_needs_every_event_wait_any_needs_one()
    {
        using var f = new SimulatedFixture();
        var a = NewEvent(f);
        var b = NewEvent(f);
        var all = f.Kfd.WaitOnMultipleEventsAsync([a, b], true, 5000, default);
        var any = f.Kfd.WaitOnMultipleEventsAsync([a, b], false, 5000, default);
        f.Kfd.SetEvent(a);
        Assert.Equal(HsaStatus.Success, await any.WaitAsync(Guard));  // took a's signal
        Assert.False(all.IsCompleted);
        f.Kfd.SetEvent(a);
        f.Kfd.SetEvent(b);
        Assert.Equal(HsaStatus.Success, await all.WaitAsync(Guard));
        Assert.False(f.Kfd.IsEventSignaled(a));
        Assert.False(f.Kfd.IsEventSignaled(b));
    }

    [Fact]
    public async Task One_auto_reset_signal_wakes_one_waiter()
    {
        using var f = new SimulatedFixture();
        var e = NewEvent(f);
        var w1 = f.Kfd.WaitOnMultipleEventsAsync([e], true, 100, default);
        var w2 = f.Kfd.WaitOnMultipleEventsAsync([e], true, 100, default);
        f.Kfd.SetEvent(e);
        f.Time.Advance(TimeSpan.FromMilliseconds(100));
        var results = await Task.WhenAll(w1, w2).WaitAsync(Guard);
        Assert.Equal([HsaStatus.Success, HsaStatus.WaitTimeout], results);
    }

    [Fact]
    public async Task Waits_on_unknown_or_no_events_fail_and_cancellation_and_destroy_release_waiters()
    {
        using var f = new SimulatedFixture();
        var e = NewEvent(f);
        Assert.Equal(HsaStatus.InvalidHandle, await f.Kfd.WaitOnMultipleEventsAsync([e, 999], true, 10, default));
        Assert.Equal(HsaStatus.InvalidParameter, await f.Kfd.WaitOnMultipleEventsAsync([], true, 10, default));
        using var cts = new CancellationTokenSource();
        var cancelled = f.Kfd.WaitOnMultipleEventsAsync([e], true, uint.MaxValue, cts.Token);
        cts.Cancel();
        Assert.Equal(HsaStatus.WaitFailure, await cancelled.WaitAsync(Guard));
        var orphan = f.Kfd.WaitOnMultipleEventsAsync([e], true, 1000, default);
        f.Kfd.DestroyEvent(e);
        Assert.Equal(HsaStatus.WaitFailure, await orphan.WaitAsync(Guard));
        Assert.Equal(0, f.Time.ActiveTimers);
    }

    [Fact]
    public async Task Gpu_slot_write_plus_interrupt_signals_the_event()
    {
        using var f = new SimulatedFixture();
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateEvent(new HsaEventDescriptor { NodeId = 1 }, false, false, out var ev, out var h));
        var wait = f.Kfd.WaitOnMultipleEventsAsync([h], true, uint.MaxValue, default);
        Assert.Equal(0, f.Kfd.RaiseEventInterrupt());
        Marshal.WriteInt64((nint)ev.EventData.HWData2, ev.EventId);   // what the GPU's end-of-pipe write does
        Assert.Equal(1, f.Kfd.RaiseEventInterrupt());
        Assert.Equal(HsaStatus.Success, await wait.WaitAsync(Guard));
        Assert.Equal(-1L, Marshal.ReadInt64((nint)ev.EventData.HWData2));
    }

    [Fact]
    public async Task Event_limit_and_dispose_complete_pending_waits()
    {
        var f = new SimulatedFixture(new VhsaKmt.Native.Simulated.SimulatedKfdOptions { MaxEvents = 2 });
        var a = NewEvent(f);
        NewEvent(f);
        Assert.Equal(HsaStatus.Error, f.Kfd.CreateEvent(new HsaEventDescriptor(), false, false, out _, out _));
        var pending = f.Kfd.WaitOnMultipleEventsAsync([a], true, uint.MaxValue, default);
        f.Dispose();
        Assert.Equal(HsaStatus.WaitFailure, await pending.WaitAsync(Guard));
        Assert.Equal(0, f.Kfd.Counters.Events);
    }
}
