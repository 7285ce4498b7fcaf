using Serilog;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// The event half of the simulated KFD: auto/manual-reset events with a real event page (one 8-byte slot per
/// signal event, UNSIGNALED = all ones), set/reset/query, and waits on many events that complete off the caller's
/// thread, timed by an injected <see cref="TimeProvider"/>. Semantics follow amdkfd (kfd_events.c) and the Linux
/// thunk (events.c): only signal events may be set/reset from user space, a satisfied wait resets the auto-reset
/// events that satisfied it, QueryEventState only validates the event (returns SUCCESS).
/// </summary>
internal sealed class SimulatedEvents : IDisposable
{
    public const ulong UnsignaledSlot = ulong.MaxValue;
    public const uint Infinite = 0xFFFF_FFFF;
    private const uint TypeSignal = 0, TypeDebug = 5, TypeMaxId = 9;
    private const uint FirstNonSignalEventId = 0x8000_0000;

    private readonly object _lock = new();
    private readonly Dictionary<ulong, SimEvent> _events = new();
    private readonly SimulatedPageWindow _window;
    private readonly KfdCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly int _maxEvents;
    private readonly bool[] _slotUsed;
    private Memfd? _pageFile;
    private MappedRegion? _page;
    private ulong _nextHandle;
    private uint _nextNonSignalId = FirstNonSignalEventId;
    private bool _disposed;

    public SimulatedEvents(SimulatedPageWindow window, int maxEvents, KfdCounters counters, TimeProvider time, ILogger log)
    {
        _window = window;
        _maxEvents = maxEvents;
        _slotUsed = new bool[maxEvents];
        _counters = counters;
        _time = time;
        _log = log;
    }

    /// <summary>VA of the event page (0 before the first signal event).</summary>
    public ulong EventPageAddress
    {
        get { lock (_lock) return _page?.Address ?? 0; }
    }

    public bool Exists(ulong handle)
    {
        lock (_lock) return _events.ContainsKey(handle);
    }

    public HsaStatus Create(in HsaEventDescriptor desc, bool manualReset, bool isSignaled, out HsaEvent ev, out ulong handle)
    {
        ev = default;
        handle = 0;
        if (desc.EventType >= TypeMaxId) return HsaStatus.InvalidParameter;
        lock (_lock)
        {
            if (_disposed) return HsaStatus.KernelIoChannelNotOpened;
            if (_events.Count >= _maxEvents) return HsaStatus.Error; // amdkfd: -ENOSPC
            var hasSlot = desc.EventType is TypeSignal or TypeDebug;
            var slot = -1;
            if (hasSlot)
            {
                try
                {
                    if (!EnsurePage()) return HsaStatus.NoMemory;
                }
                catch (LibcException ex)
                {
                    _log.Warning("CreateEvent: event page: {Error}", ex.Message);
                    _pageFile?.Dispose();
                    _pageFile = null;
                    return HsaStatus.NoMemory;
                }
                slot = Array.IndexOf(_slotUsed, false);
                if (slot < 0) return HsaStatus.Error;
                _slotUsed[slot] = true;
            }
            var e = new SimEvent
            {
                Handle = ++_nextHandle,
                Id = hasSlot ? (uint)slot : _nextNonSignalId++,
                Type = desc.EventType,
                ManualReset = manualReset,
                Slot = slot,
            };
            _events.Add(e.Handle, e);
            if (slot >= 0) _page!.U64((ulong)slot * 8) = UnsignaledSlot;
            if (isSignaled) e.Signaled = true;
            _counters.AddEvents(1);

            ev.EventId = e.Id;
            ev.EventData.EventType = desc.EventType;
            ev.EventData.HWData1 = e.Id;
            ev.EventData.HWData2 = slot >= 0 ? _page!.Address + (ulong)slot * 8 : 0;
            ev.EventData.HWData3 = e.Id;
            handle = e.Handle;
            return HsaStatus.Success;
        }
    }

    public HsaStatus Destroy(ulong handle)
    {
        List<Waiter> orphaned;
        lock (_lock)
        {
            if (!_events.Remove(handle, out var e)) return HsaStatus.InvalidHandle;
            if (e.Slot >= 0)
            {
                _page!.U64((ulong)e.Slot * 8) = UnsignaledSlot;
                _slotUsed[e.Slot] = false;
            }
            orphaned = e.Waiters.ToList();
            _counters.AddEvents(-1);
        }
        // A waiter on a destroyed event can never be satisfied (amdkfd fails the wait).
        foreach (var w in orphaned) Complete(w, HsaStatus.WaitFailure);
        return HsaStatus.Success;
    }

    public HsaStatus Set(ulong handle)
    {
        List<(Waiter, HsaStatus)> done;
        lock (_lock)
        {
            if (!_events.TryGetValue(handle, out var e)) return HsaStatus.InvalidHandle;
            if (e.Type != TypeSignal) return HsaStatus.Error;
            done = SignalLocked(e);
        }
        foreach (var (w, _) in done) Finish(w);
        return HsaStatus.Success;
    }

    public HsaStatus Reset(ulong handle)
    {
        lock (_lock)
        {
            if (!_events.TryGetValue(handle, out var e)) return HsaStatus.InvalidHandle;
            if (e.Type != TypeSignal) return HsaStatus.Error;
            e.Signaled = false;
            if (e.Slot >= 0) _page!.U64((ulong)e.Slot * 8) = UnsignaledSlot;
            return HsaStatus.Success;
        }
    }

    public HsaStatus Query(ulong handle)
    {
        lock (_lock) return _events.ContainsKey(handle) ? HsaStatus.Success : HsaStatus.InvalidHandle;
    }

    /// <summary>True if the event is currently signaled (diagnostics and tests; the thunk has no such call).</summary>
    public bool IsSignaled(ulong handle)
    {
        lock (_lock) return _events.TryGetValue(handle, out var e) && e.Signaled;
    }

    /// <summary>
    /// The "interrupt": signals every event whose slot something (the GPU, a test) wrote since, and re-arms the slot,
    /// as amdkfd's interrupt handler scans the event page. Returns how many events it signaled.
    /// </summary>
    public int ScanSlots()
    {
        var done = new List<(Waiter, HsaStatus)>();
        var count = 0;
        lock (_lock)
        {
            if (_page is null) return 0;
            foreach (var e in _events.Values.Where(e => e.Slot >= 0).ToList())
            {
                ref var cell = ref _page.U64((ulong)e.Slot * 8);
                if (Volatile.Read(ref cell) == UnsignaledSlot) continue;
                Volatile.Write(ref cell, UnsignaledSlot);
                done.AddRange(SignalLocked(e));
                count++;
            }
        }
        foreach (var (w, _) in done) Finish(w);
        return count;
    }

    public Task<HsaStatus> WaitAsync(IReadOnlyList<ulong> handles, bool waitAll, uint milliseconds, CancellationToken ct)
    {
        if (handles.Count == 0) return Task.FromResult(HsaStatus.InvalidParameter);
        Waiter w;
        lock (_lock)
        {
            if (_disposed) return Task.FromResult(HsaStatus.KernelIoChannelNotOpened);
            var events = new SimEvent[handles.Count];
            for (var i = 0; i < handles.Count; i++)
                if (!_events.TryGetValue(handles[i], out events[i]!)) return Task.FromResult(HsaStatus.InvalidHandle);
            if (Satisfied(events, waitAll))
            {
                Consume(events);
                return Task.FromResult(HsaStatus.Success);
            }
            if (milliseconds == 0 || ct.IsCancellationRequested)
                return Task.FromResult(milliseconds == 0 ? HsaStatus.WaitTimeout : HsaStatus.WaitFailure);
            w = new Waiter(events, waitAll);
            foreach (var e in events.Distinct()) e.Waiters.Add(w);
        }
        if (milliseconds != Infinite)
            w.Timer = _time.CreateTimer(static s => { var (self, wt) = ((SimulatedEvents, Waiter))s!; self.Complete(wt, HsaStatus.WaitTimeout); },
                (this, w), TimeSpan.FromMilliseconds(milliseconds), Timeout.InfiniteTimeSpan);
        if (ct.CanBeCanceled)
            w.Cancellation = ct.Register(static s => { var (self, wt) = ((SimulatedEvents, Waiter))s!; self.Complete(wt, HsaStatus.WaitFailure); }, (this, w));
        // Completed while the timer/registration were being set up: release them now.
        lock (_lock)
            if (w.Outcome is null) return w.Completion.Task;
        Finish(w);
        return w.Completion.Task;
    }

    // Under _lock: marks the event signaled and completes every waiter it satisfies (an auto-reset event wakes one).
    private List<(Waiter, HsaStatus)> SignalLocked(SimEvent e)
    {
        var done = new List<(Waiter, HsaStatus)>();
        e.Signaled = true;
        foreach (var w in e.Waiters.ToList())
        {
            if (!e.Signaled) break;
            if (w.Outcome is not null || !Satisfied(w.Events, w.WaitAll)) continue;
            Consume(w.Events);
            Detach(w);
            w.Outcome = HsaStatus.Success;
            done.Add((w, HsaStatus.Success));
        }
        return done;
    }

    private static bool Satisfied(SimEvent[] events, bool waitAll) =>
        waitAll ? events.All(e => e.Signaled) : events.Any(e => e.Signaled);

    private static void Consume(SimEvent[] events)
    {
        foreach (var e in events)
            if (e.Signaled && !e.ManualReset) e.Signaled = false;
    }

    // Under _lock.
    private static void Detach(Waiter w)
    {
        foreach (var e in w.Events) e.Waiters.Remove(w);
    }

    // The outcome is decided once, under the lock, so a timeout racing a signal cannot report WAIT_TIMEOUT after the
    // signal already consumed an auto-reset event.
    private void Complete(Waiter w, HsaStatus status)
    {
        lock (_lock)
        {
            if (w.Outcome is null)
            {
                Detach(w);
                w.Outcome = status;
            }
        }
        Finish(w);
    }

    private static void Finish(Waiter w)
    {
        w.Completion.TrySetResult(w.Outcome!.Value);
        w.Timer?.Dispose();
        w.Cancellation.Dispose();
    }

    // Under _lock.
    private bool EnsurePage()
    {
        if (_page is not null) return true;
        _pageFile = Memfd.Create("vhsakmt-kfd-events", (ulong)_maxEvents * 8 + (ulong)Environment.SystemPageSize - 1 & ~((ulong)Environment.SystemPageSize - 1));
        _page = _window.Map(_pageFile);
        if (_page is null)
        {
            _pageFile.Dispose();
            _pageFile = null;
            return false;
        }
        _log.Debug("Simulated KFD event page at {Address:x}", _page.Address);
        return true;
    }

    public void Dispose()
    {
        List<Waiter> waiters;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            waiters = _events.Values.SelectMany(e => e.Waiters).Distinct().ToList();
            _counters.AddEvents(-_events.Count);
            _events.Clear();
        }
        foreach (var w in waiters) Complete(w, HsaStatus.WaitFailure);
        _page?.Dispose();
        _pageFile?.Dispose();
    }

    private sealed class SimEvent
    {
        public required ulong Handle { get; init; }
        public required uint Id { get; init; }
        public required uint Type { get; init; }
        public required bool ManualReset { get; init; }
        public required int Slot { get; init; }
        public bool Signaled { get; set; }
        public List<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter(SimEvent[] events, bool waitAll)
    {
        public SimEvent[] Events { get; } = events;
        public bool WaitAll { get; } = waitAll;
        public HsaStatus? Outcome { get; set; }
        public ITimer? Timer { get; set; }
        public CancellationTokenRegistration Cancellation { get; set; }
        public TaskCompletionSource<HsaStatus> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
