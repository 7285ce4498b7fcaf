namespace VhsaKmt.Native.Va;

/// <summary>Objects keyed by start address with O(log n) "which object contains this address" lookups.</summary>
internal sealed class RangeIndex<T> where T : class
{
    private readonly SortedSet<ulong> _starts = new();
    private readonly Dictionary<ulong, (ulong Size, T Value)> _items = new();

    public int Count => _items.Count;
    public IEnumerable<T> Values => _items.Values.Select(v => v.Value);

    /// <summary>True if [start, +size) intersects an existing entry.</summary>
    public bool Overlaps(ulong start, ulong size)
    {
        if (FindContaining(start) is not null) return true;
        var next = _starts.GetViewBetween(start, ulong.MaxValue).Min; // Min/Max of a view are O(log n); Count is not
        return _items.ContainsKey(next) && next - start < size;
    }

    /// <summary>False if [start, +size) intersects an existing entry.</summary>
    public bool TryAdd(ulong start, ulong size, T value)
    {
        if (Overlaps(start, size)) return false;
        _starts.Add(start);
        _items.Add(start, (size, value));
        return true;
    }

    public bool Remove(ulong start) => _starts.Remove(start) && _items.Remove(start);

    public T? Get(ulong start) => _items.TryGetValue(start, out var v) ? v.Value : null;

    /// <summary>Entries that start inside [start, end).</summary>
    public IEnumerable<T> StartingIn(ulong start, ulong end) =>
        end <= start ? [] : _starts.GetViewBetween(start, end - 1).Select(k => _items[k].Value).ToList();

    /// <summary>The entry whose range contains <paramref name="address"/>.</summary>
    public T? FindContaining(ulong address)
    {
        var start = _starts.GetViewBetween(0, address).Max;
        if (!_items.TryGetValue(start, out var e)) return null;
        return address - start < e.Size ? e.Value : null;
    }
}
