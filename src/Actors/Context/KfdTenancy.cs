using System.Runtime.CompilerServices;
using VhsaKmt.Native;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// Process-wide KFD state shared by every context on one <see cref="IKfd"/> (PROTOCOL.md §4.2: SET_XNACK_MODE and
/// RUN_TIME_* act on the whole host process). Rule: a context may change such state only while it is the only
/// live context; otherwise only the current value is accepted. Runtime enable is reference counted.
/// </summary>
public sealed class KfdTenancy
{
    private static readonly ConditionalWeakTable<IKfd, KfdTenancy> s_registry = new();
    private readonly object _sync = new();
    private readonly HashSet<long> _live = new();
    private readonly HashSet<long> _runtimeEnabled = new();

    public static KfdTenancy For(IKfd kfd) => s_registry.GetValue(kfd, _ => new KfdTenancy());

    public void Join(long contextKey) { lock (_sync) _live.Add(contextKey); }

    /// <summary>Leaves; true if the runtime must now be disabled on the KFD (this was the last context that enabled it).</summary>
    public bool Leave(long contextKey)
    {
        lock (_sync)
        {
            _live.Remove(contextKey);
            return _runtimeEnabled.Remove(contextKey) && _runtimeEnabled.Count == 0;
        }
    }

    public int LiveContexts { get { lock (_sync) return _live.Count; } }

    /// <summary>True if <paramref name="contextKey"/> is the only live context (may change process-wide state).</summary>
    public bool IsSole(long contextKey) { lock (_sync) return _live.Count == 1 && _live.Contains(contextKey); }

    /// <summary>Runs <paramref name="enable"/> only for the first enabler; later ones share it (the thunk's UNAVAILABLE becomes success).</summary>
    public HsaStatus RuntimeEnable(long contextKey, Func<HsaStatus> enable)
    {
        lock (_sync)
        {
            if (_runtimeEnabled.Count > 0) { _runtimeEnabled.Add(contextKey); return HsaStatus.Success; }
            var st = enable();
            if (st == HsaStatus.Unavailable) st = HsaStatus.Success;
            if (st == HsaStatus.Success) _runtimeEnabled.Add(contextKey);
            return st;
        }
    }

    /// <summary>Runs <paramref name="disable"/> only when the last enabler leaves.</summary>
    public HsaStatus RuntimeDisable(long contextKey, Func<HsaStatus> disable)
    {
        lock (_sync)
        {
            if (!_runtimeEnabled.Remove(contextKey) || _runtimeEnabled.Count > 0) return HsaStatus.Success;
            return disable();
        }
    }

    /// <summary>Serialises a check-then-set of process-wide state.</summary>
    public T Locked<T>(Func<T> f) { lock (_sync) return f(); }
}
