using System.Diagnostics;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Transport.VhostUser;

// The IO thread: one epoll over the socket, the wake eventfd and the kick eventfds.
public sealed partial class VhostUserConnection
{
    private void Run()
    {
        var reason = ConnectionCloseReason.Stopped;
        Exception? error = null;
        try
        {
            _log.Information("Front-end connected");
            reason = Serve();
        }
        catch (VhostUserProtocolException e)
        {
            reason = ConnectionCloseReason.ProtocolError;
            error = e;
            _log.Error("Protocol error, closing the connection: {Reason}", e.Message);
        }
        catch (LibcException e)
        {
            reason = ConnectionCloseReason.ProtocolError;
            error = e;
            _log.Error("Socket error, closing the connection: {Reason}", e.Message);
        }
        catch (Exception e)
        {
            // A host bug (ours or the model's): this VM's connection goes, the daemon stays.
            reason = ConnectionCloseReason.HostError;
            error = e;
            _log.Error(e, "Unexpected failure, closing the connection");
        }
        finally
        {
            Teardown(reason, error);
        }
    }

    private ConnectionCloseReason Serve()
    {
        Span<ulong> ready = stackalloc ulong[16];
        var polling = _options.Polling;
        long spinTicks = polling.Enabled && polling.SpinMicroseconds > 0 ? polling.SpinMicroseconds * Stopwatch.Frequency / 1_000_000 : 0;
        while (!_stopRequested)
        {
            int timeout = AnyPolledKick() ? 1 : -1;
            int n = _epoll.Wait(ready, timeout);
            if (n == 0 && timeout > 0) NotifyPolledQueues();
            bool kicked = false;
            for (int i = 0; i < n; i++)
            {
                ulong tag = ready[i];
                if (tag == SocketTag)
                {
                    if (!_reader.TryReadMessage())
                    {
                        _log.Information("Front-end closed the connection");
                        return ConnectionCloseReason.FrontEndClosed;
                    }
                    try
                    {
                        HandleMessage();
                    }
                    finally
                    {
                        _reader.ReleaseMessage();
                    }
                }
                else if (tag == WakeTag)
                {
                    EventFd.Drain(_wake);
                }
                else
                {
                    int q = (int)(tag - KickTagBase);
                    if ((uint)q < (uint)_slots.Length && _slots[q].Kick is not null)
                    {
                        NotifyQueue(q); // kick fds are edge-triggered: nothing to drain
                        kicked = true;
                    }
                }
            }
            // Poll after serving a kick: the answer has been signalled, the guest's next request is what comes next.
            // (Not after front-end messages: the handshake and ring setup are no reason to spin.)
            // It also polls when the IO thread is confined to one CPU: the spin yields between looks, and measured
            // on one shared CPU it still beats blocking (bench/ANALYSIS.md); an operator who pins the daemon to a
            // core of its own is who wants polling most.
            if (spinTicks > 0 && kicked) Spin(spinTicks);
        }
        return ConnectionCloseReason.Stopped;
    }

    /// <summary>
    /// Adaptive polling: watch the avail indices for a while before blocking in epoll again, with the driver's kicks
    /// suppressed meanwhile (avail_event / VRING_USED_F_NO_NOTIFY, see <see cref="Virtio.SplitVirtqueue.SuppressKicks"/>).
    /// <para>No buffer is lost: every way out re-enables kicks on every live ring, fences and re-reads avail idx
    /// (<see cref="Virtio.SplitVirtqueue.EnableKicksAndCheck"/>), and serves what it finds before epoll blocks. A driver
    /// publishes avail idx, fences, then reads avail_event/flags: either it sees kicks wanted and kicks (epoll wakes),
    /// or its avail idx store came first and our re-read sees the buffer. Front-end messages are never handled with
    /// kicks off (a ring stopped or restarted there would keep the suppression in guest memory).</para>
    /// </summary>
    private void Spin(long spinTicks)
    {
        Span<ulong> ready = stackalloc ulong[1];
        long deadline = Stopwatch.GetTimestamp() + spinTicks;
        SuppressKicks();
        try
        {
            int looks = 0;
            while (!_stopRequested)
            {
                if (PollRings()) deadline = Stopwatch.GetTimestamp() + spinTicks;
                // Front-end messages and kicks take priority: leave the spin when anything is ready. Looked at every
                // eighth turn: it is a syscall, and with kicks suppressed little is expected there.
                if ((++looks & 7) == 0 && _epoll.Wait(ready, 0) > 0) break;
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    // Going back to epoll: kicks on, then one more look. A buffer that slipped in while kicks were off
                    // means the guest is busy: serve it and keep watching.
                    if (!ResumeKicks()) return;
                    SuppressKicks();
                    deadline = Stopwatch.GetTimestamp() + spinTicks;
                    continue;
                }
                // Give the CPU away between looks (sched_yield): a guest vCPU or actor thread on this CPU runs now.
                Thread.Yield();
            }
        }
        catch
        {
            // The connection is going down: still leave no suppression in guest memory for a reconnecting front-end.
            foreach (var slot in _slots) if (slot.IsLive) slot.Queue!.EnableKicksAndCheck();
            throw;
        }
        // Left for a ready fd or a stop. The socket is level-triggered: Serve sees it again, with kicks on. A kick
        // (edge-triggered) was consumed by the look above, but its buffer is already published: ResumeKicks serves it.
        ResumeKicks();
    }

    private void SuppressKicks()
    {
        foreach (var slot in _slots) if (slot.IsLive) slot.Queue!.SuppressKicks();
    }

    /// <summary>Serve every live ring with buffers waiting; true if any had some.</summary>
    private bool PollRings()
    {
        bool found = false;
        foreach (var slot in _slots)
        {
            if (slot.IsLive && slot.Queue!.HasAvailable())
            {
                NotifyQueue(slot.Index);
                // The model's last TryPop found the ring empty and asked for a kick (avail_event = last_avail): we are
                // still watching, so ask again not to be kicked. A kick in between is redundant, never harmful.
                if (slot.IsLive) slot.Queue!.SuppressKicks();
                found = true;
            }
        }
        return found;
    }

    /// <summary>
    /// Kicks back on for every live ring, then serve the rings where buffers arrived while they were off (their last
    /// TryPop re-arms avail_event when it drains them). True if any had buffers.
    /// </summary>
    private bool ResumeKicks()
    {
        bool found = false;
        foreach (var slot in _slots)
        {
            if (slot.IsLive && slot.Queue!.EnableKicksAndCheck())
            {
                NotifyQueue(slot.Index);
                found = true;
            }
        }
        return found;
    }

    private bool AnyPolledKick()
    {
        foreach (var slot in _slots) if (slot.KickPolled && slot.IsLive) return true;
        return false;
    }

    private void NotifyPolledQueues()
    {
        foreach (var slot in _slots)
        {
            if (slot.KickPolled && slot.IsLive && slot.Queue!.HasAvailable()) NotifyQueue(slot.Index);
        }
    }

    private void NotifyQueue(int index)
    {
        if (!_slots[index].IsLive) return;
        _model.OnQueueNotified(index);
    }

    private void Teardown(ConnectionCloseReason reason, Exception? error)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try
        {
            _model.Reset(reason == ConnectionCloseReason.ProtocolError ? Virtio.DeviceResetReason.ProtocolError : Virtio.DeviceResetReason.Disconnect);
        }
        catch (Exception e)
        {
            _log.Error(e, "Device model failed to reset on disconnect");
        }
        foreach (var slot in _slots)
        {
            if (slot.Kick is { } kick) _epoll.Remove(kick.Fd);
            slot.Clear();
        }
        _backend?.Dispose();
        _backend = null;
        _gpuSocket?.Dispose();
        _gpuSocket = null;
        _memory.Clear();
        _reader.ReleaseMessage();
        _epoll.Dispose();
        _wake.Dispose();
        _socket.Dispose();
        _log.Information("Connection closed ({Reason})", reason);
        try
        {
            Disconnected?.Invoke(this, new ConnectionClosedEventArgs(VmId, reason, error));
        }
        catch (Exception e)
        {
            _log.Error(e, "Disconnected handler failed");
        }
    }
}
