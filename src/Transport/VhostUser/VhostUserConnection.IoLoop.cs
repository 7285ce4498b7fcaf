using System.Diagnostics;
using VhsaKmt.Transport.Interop;

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
        long spinTicks = _options.Polling.Enabled ? _options.Polling.SpinMicroseconds * Stopwatch.Frequency / 1_000_000 : 0;
        while (!_stopRequested)
        {
            int timeout = AnyPolledKick() ? 1 : -1;
            int n = _epoll.Wait(ready, timeout);
            if (n == 0 && timeout > 0) NotifyPolledQueues();
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
                    if ((uint)q < (uint)_slots.Length && _slots[q].Kick is { } kick)
                    {
                        EventFd.Drain(kick);
                        NotifyQueue(q);
                    }
                }
            }
            if (spinTicks > 0 && n > 0) Spin(spinTicks);
        }
        return ConnectionCloseReason.Stopped;
    }

    /// <summary>Adaptive polling: watch the avail indices for a while before blocking in epoll again.</summary>
    private void Spin(long spinTicks)
    {
        Span<ulong> ready = stackalloc ulong[1];
        long deadline = Stopwatch.GetTimestamp() + spinTicks;
        while (Stopwatch.GetTimestamp() < deadline && !_stopRequested)
        {
            bool found = false;
            foreach (var slot in _slots)
            {
                if (slot.IsLive && slot.Queue!.HasAvailable())
                {
                    NotifyQueue(slot.Index);
                    found = true;
                }
            }
            if (found) deadline = Stopwatch.GetTimestamp() + spinTicks;
            // Front-end messages and kicks take priority: leave the spin when anything is ready.
            if (_epoll.Wait(ready, 0) > 0) return;
            Thread.SpinWait(20);
        }
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
