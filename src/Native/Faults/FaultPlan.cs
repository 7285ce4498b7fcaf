namespace VhsaKmt.Native.Faults;

/// <summary>
/// Which <see cref="IKfd"/> calls fail, and how. Rules are matched by method name (as in <see cref="IKfd"/>):
/// a rule can skip its first <c>after</c> matching calls and fire at most <c>times</c> times (null: forever).
/// Thread-safe: tests arm and disarm rules while contexts run on other threads.
/// </summary>
public sealed class FaultPlan
{
    private readonly Lock _lock = new();
    private readonly List<Rule> _rules = new();
    private readonly Dictionary<string, long> _calls = new();
    private long _injected;

    private sealed class Rule(string method, KfdFault fault, int after, int? times)
    {
        public string Method { get; } = method;
        public KfdFault Fault { get; } = fault;
        public int Skip = after;
        public int? Left = times;
    }

    /// <summary>Fail <paramref name="method"/> with <paramref name="fault"/> after <paramref name="after"/> good calls, <paramref name="times"/> times (null: always).</summary>
    public FaultPlan Fail(string method, KfdFault fault, int after = 0, int? times = 1)
    {
        lock (_lock) _rules.Add(new Rule(method, fault, after, times));
        return this;
    }

    /// <summary>Remove every rule (calls keep being counted).</summary>
    public void Clear()
    {
        lock (_lock) _rules.Clear();
    }

    /// <summary>Faults injected so far.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    /// <summary>Calls seen for <paramref name="method"/> (faulted or not).</summary>
    public long Calls(string method)
    {
        lock (_lock) return _calls.GetValueOrDefault(method);
    }

    /// <summary>Rules still armed.</summary>
    public int Armed
    {
        get { lock (_lock) return _rules.Count; }
    }

    /// <summary>The fault for this call of <paramref name="method"/>, or null to pass it through.</summary>
    public KfdFault? Next(string method)
    {
        lock (_lock)
        {
            _calls[method] = _calls.GetValueOrDefault(method) + 1;
            for (int i = 0; i < _rules.Count; i++)
            {
                var rule = _rules[i];
                if (rule.Method != method) continue;
                if (rule.Skip > 0) { rule.Skip--; continue; }
                if (rule.Left is { } left)
                {
                    if (left <= 1) _rules.RemoveAt(i);
                    else rule.Left = left - 1;
                }
                _injected++;
                return rule.Fault;
            }
            return null;
        }
    }
}
