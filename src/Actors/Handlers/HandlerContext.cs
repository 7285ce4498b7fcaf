using Serilog;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Handlers;

/// <summary>Lifetime actors of objects (QueueActor, VaRegionActor), created by the ContextActor for handlers.</summary>
public interface IContextChildren
{
    void SpawnQueue(QueueObject queue);
    /// <summary>A VaRegionActor for a <see cref="MemoryObject"/> or <see cref="UserptrObject"/>.</summary>
    void SpawnRegion(KfdObject region);
    /// <summary>The guest dropped <paramref name="obj"/> (detach, QUEUE/EVENT DESTROY): release it in teardown order.</summary>
    void Retire(KfdObject obj);
}

/// <summary>What every ccmd handler of one context works with. One instance per ContextActor incarnation.</summary>
public sealed class HandlerContext(ContextState state, ContextServices services, ObjectReleaser releaser, IContextChildren children, ILogger log)
{
    private HsaSystemProperties? _sys;
    private uint[]? _gpuNodes;

    public ContextState State { get; } = state;
    public ContextServices Services { get; } = services;
    public IKfd Kfd => Services.Kfd;
    public ContextSettings Settings => State.Settings;
    public ObjectTable Objects => State.Objects;
    public ObjectReleaser Releaser { get; } = releaser;
    public IContextChildren Children { get; } = children;
    public ILogger Log { get; } = log;

    /// <summary>Host node count (topology is fixed for the life of the KFD).</summary>
    public uint NumNodes
    {
        get
        {
            if (_sys is null)
                _sys = Kfd.AcquireSystemProperties(out var p) == HsaStatus.Success ? p : default(HsaSystemProperties);
            return _sys.Value.NumNodes;
        }
    }

    public bool IsNode(uint node) => node < NumNodes;

    /// <summary>GPU nodes (NumFComputeCores &gt; 0) in node order.</summary>
    public uint[] GpuNodes
    {
        get
        {
            if (_gpuNodes is null)
            {
                var list = new List<uint>();
                for (uint n = 0; n < NumNodes; n++)
                    if (Kfd.GetNodeProperties(n, out var np) == HsaStatus.Success && np.NumFComputeCores > 0)
                        list.Add(n);
                _gpuNodes = list.ToArray();
            }
            return _gpuNodes;
        }
    }

    /// <summary>Index of <paramref name="node"/> among GPU nodes, or -1 for a CPU / unknown node.</summary>
    public int GpuIndex(uint node) => Array.IndexOf(GpuNodes, node);

    /// <summary>The context's slice, reserved on first use; null when the VA manager has no free slice.</summary>
    public VaSlice? EnsureSlice()
    {
        if (State.Slice is null)
        {
            State.Slice = Services.Va.ReserveSlice();
            if (State.Slice is not null)
                Log.Information("VA slice {Index} [0x{Start:x}, +0x{Size:x}) reserved", State.Slice.Index, State.Slice.Start, State.Slice.Size);
        }
        return State.Slice;
    }

    /// <summary>[address, +size) inside this context's slice heap or one of its scratch arenas.</summary>
    public bool InContextVa(ulong address, ulong size)
    {
        var s = State.Slice;
        if (s is null || address == 0) return false;
        return s.ContainsAny(address, size);
    }
}
