using System.Collections.Concurrent;
using VhsaKmt.Actors.Context;

namespace VhsaKmt.Actors.Device;

/// <summary>
/// The contexts of one device that may run a SUBMIT_3D inline on the connection's IO thread, by ctx id. Written by
/// the <see cref="DeviceActor"/> in queue order (opened before CTX_CREATE is answered, closed before CTX_DESTROY is
/// answered or the context is torn down), read by the <see cref="VirtioGpuDeviceModel"/> on the IO thread.
/// </summary>
public sealed class ContextLanes
{
    private readonly ConcurrentDictionary<uint, ContextFastPath> _lanes = new();

    public int Count => _lanes.Count;

    public bool TryGet(uint ctxId, out ContextFastPath fastPath) => _lanes.TryGetValue(ctxId, out fastPath!);

    internal void Open(ContextFastPath fastPath) => _lanes[fastPath.CtxId] = fastPath;

    /// <summary>Closes the lane of <paramref name="fastPath"/> only: a newer context with the same id keeps its own.</summary>
    internal void Close(ContextFastPath fastPath) => _lanes.TryRemove(new KeyValuePair<uint, ContextFastPath>(fastPath.CtxId, fastPath));

    internal void CloseAll() => _lanes.Clear();
}
