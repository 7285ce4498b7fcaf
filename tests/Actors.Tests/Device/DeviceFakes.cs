using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.TestKit;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Device;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Tests.Device;

/// <summary>Guest RAM as one byte array at guest-physical 0; bounds-checked like the real memory table.</summary>
public sealed class FakeGuestMemory : IGuestMemory
{
    private readonly byte[] _ram;
    private ulong _next = 0x1000;

    public FakeGuestMemory(int size = 1 << 22) => _ram = new byte[size];

    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (gpa > (ulong)_ram.Length || (ulong)destination.Length > (ulong)_ram.Length - gpa) return false;
        _ram.AsSpan((int)gpa, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (gpa > (ulong)_ram.Length || (ulong)source.Length > (ulong)_ram.Length - gpa) return false;
        source.CopyTo(_ram.AsSpan((int)gpa));
        return true;
    }

    public bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range) { range = null!; return false; }

    /// <summary>Bump-allocate guest memory (8-byte aligned).</summary>
    public ulong Allocate(int size)
    {
        lock (_ram)
        {
            ulong at = _next;
            _next += (ulong)((size + 7) & ~7);
            return at;
        }
    }

    public byte[] Read(ulong gpa, int length) => _ram.AsSpan((int)gpa, length).ToArray();
}

/// <summary>A queue the test fills with chains; completions are recorded in order.</summary>
public sealed class FakeVirtqueue(int index) : IVirtqueue
{
    private readonly ConcurrentQueue<DescriptorChain> _available = new();
    private readonly List<(DescriptorChain Chain, uint Written)> _used = new();
    private int _flushes;

    public int Index { get; } = index;
    public void Push(DescriptorChain chain) => _available.Enqueue(chain);
    public bool TryPop(out DescriptorChain chain)
    {
        if (!_available.TryDequeue(out chain!)) return false;
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    public void Complete(DescriptorChain chain, uint writtenBytes)
    {
        var counter = chain.DetachCounter();
        Interlocked.Decrement(ref _inFlight);
        lock (_used) _used.Add((chain, writtenBytes));
        counter?.Decrement();
    }
    public void Flush() => Interlocked.Increment(ref _flushes);
    public int InFlight => Volatile.Read(ref _inFlight);
    private int _inFlight;

    public int Flushes => Volatile.Read(ref _flushes);
    public IReadOnlyList<(DescriptorChain Chain, uint Written)> Used { get { lock (_used) return _used.ToList(); } }
}

public sealed record ShmemCall(bool Map, byte ShmId, ulong FdOffset, ulong ShmOffset, ulong Length, ShmemMapFlags Flags);

public sealed class FakeBackendChannel : IBackendChannel
{
    public ConcurrentQueue<ShmemCall> Calls { get; } = new();
    public long Answer { get; set; }

    public Task<long> ShmemMapAsync(byte shmId, SafeHandle fd, ulong fdOffset, ulong shmOffset, ulong length, ShmemMapFlags flags, CancellationToken cancellationToken = default)
    {
        if (fd.IsInvalid || fd.IsClosed) throw new ObjectDisposedException("fd");
        Calls.Enqueue(new ShmemCall(true, shmId, fdOffset, shmOffset, length, flags));
        return Task.FromResult(Answer);
    }

    public Task<long> ShmemUnmapAsync(byte shmId, ulong shmOffset, ulong length, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue(new ShmemCall(false, shmId, 0, shmOffset, length, ShmemMapFlags.None));
        return Task.FromResult(Answer);
    }
}

public sealed class FakeDeviceHost(FakeGuestMemory memory, FakeBackendChannel? channel, ulong ackedProtocolFeatures, string vmId = "vm-test") : IDeviceHost
{
    public FakeVirtqueue Control { get; } = new(0);
    public FakeVirtqueue Cursor { get; } = new(1);
    public string VmId => vmId;
    public IGuestMemory Memory { get; } = memory;
    public IVirtqueue? Queue(int index) => index switch { 0 => Control, 1 => Cursor, _ => null };
    public IBackendChannel? BackendChannel { get; } = channel;
    public ulong AckedProtocolFeatures { get; } = ackedProtocolFeatures;
}

/// <summary>Context children that forward everything to one probe (the probe answers the DeviceActor) and stop on DestroyContext.</summary>
/// <para>With <paramref name="fastPath"/>, each context also gets that inline fast path (the probe still plays its actor).</para>
public sealed class ProbeContextSpawner(IActorRef probe, Func<ContextInfo, ContextFastPath?>? fastPath = null) : IContextSpawner
{
    private int _spawned;
    public int Spawned => Volatile.Read(ref _spawned);

    public SpawnedContext Prepare(ContextInfo info)
    {
        Interlocked.Increment(ref _spawned);
        return new SpawnedContext(Props.Create(() => new ForwardingContext(probe)), new object(), fastPath?.Invoke(info));
    }

    public SupervisorStrategy CreateSupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private sealed class ForwardingContext : ReceiveActor
    {
        public ForwardingContext(IActorRef probe)
        {
            Receive<DestroyContext>(m => { probe.Forward(m); Context.Stop(Self); });
            ReceiveAny(m => probe.Forward(m));
        }
    }
}

/// <summary>One request/response pair in fake guest memory.</summary>
public sealed record SentRequest(DescriptorChain Chain, ulong ResponseGpa, int ResponseSize);

public static class ChainFactory
{
    public static SentRequest Make(FakeGuestMemory mem, byte[] request, int responseSize = 1056)
    {
        ulong req = mem.Allocate(request.Length);
        mem.TryWrite(req, request);
        ulong rsp = mem.Allocate(responseSize);
        var chain = new DescriptorChain(0, [new GuestSegment(req, (uint)request.Length)], [new GuestSegment(rsp, (uint)responseSize)], mem);
        return new SentRequest(chain, rsp, responseSize);
    }
}
