namespace RataDns.Reducers.Summaries;

/// <summary>Writes the text of a summary's key into <paramref name="text"/> (big enough: <see cref="RankedKeys.MaxTextLength"/>) and returns its length.</summary>
public delegate int KeyTextFormatter(ReadOnlySpan<byte> key, Span<byte> text);

/// <summary>
/// A summary's keys as text, ranked by count descending then text ascending (ordinal): what a reducer writes at the
/// end of a window. Built in scratch space kept per thread and reused, so ranking every window allocates nothing
/// once the scratch has grown to the largest summary (the results are written by the merger thread alone).
/// Valid until the next <see cref="Rank(SpaceSavingSummary, KeyTextFormatter, int)"/> on the same thread.
/// </summary>
public sealed class RankedKeys
{
    /// <summary>The longest text a formatter may write (a name in presentation form with every byte escaped).</summary>
    public const int MaxTextLength = 1024;

    [ThreadStatic]
    private static RankedKeys? t_current;

    private byte[] _text = new byte[1 << 16];
    private int[] _start = new int[256];
    private int[] _length = new int[256];
    private long[] _count = new long[256];
    private long[] _error = new long[256];
    private int[] _order = new int[256];

    private RankedKeys()
    {
    }

    /// <summary>How many keys were ranked.</summary>
    public int Count { get; private set; }

    /// <summary>Ranks every key of <paramref name="summary"/>, formatted by <paramref name="format"/>.</summary>
    public static RankedKeys Rank(SpaceSavingSummary summary, KeyTextFormatter format) => Rank(summary, format, int.MaxValue);

    /// <summary>
    /// Ranks the keys of <paramref name="summary"/> that can be among the first <paramref name="limit"/>: those whose
    /// count is at least the <paramref name="limit"/>-th largest count (every key tied with it too, since ties are
    /// ranked by text). The first <paramref name="limit"/> ranks are those of <see cref="Rank(SpaceSavingSummary,
    /// KeyTextFormatter)"/>; only the candidates are formatted and sorted, not every key of a full summary.
    /// </summary>
    public static RankedKeys Rank(SpaceSavingSummary summary, KeyTextFormatter format, int limit)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var ranked = t_current ??= new RankedKeys();
        ranked.Fill(summary, format, Threshold(summary, limit));
        return ranked;
    }

    /// <summary>The most keys for which the limit's threshold is found by insertion (larger limits rank everything).</summary>
    private const int MaxSelectedLimit = 256;

    /// <summary>The <paramref name="limit"/>-th largest count, or long.MinValue when every key is a candidate.</summary>
    private static long Threshold(SpaceSavingSummary summary, int limit)
    {
        int n = summary.MonitoredCount;
        if (limit >= n || limit > MaxSelectedLimit)
        {
            return long.MinValue;
        }

        if (limit == 0)
        {
            return long.MaxValue;
        }

        // The largest counts so far, descending: insertion into at most 256 slots.
        Span<long> top = stackalloc long[limit];
        int filled = 0;
        for (int i = 0; i < n; i++)
        {
            long count = summary.CountAt(i);
            if (filled == limit && count <= top[limit - 1])
            {
                continue;
            }

            int at = filled < limit ? filled++ : limit - 1;
            while (at > 0 && top[at - 1] < count)
            {
                top[at] = top[at - 1];
                at--;
            }

            top[at] = count;
        }

        return top[limit - 1];
    }

    /// <summary>The text of the key ranked <paramref name="rank"/> (0 = largest count).</summary>
    public ReadOnlySpan<byte> Text(int rank) => _text.AsSpan(_start[_order[rank]], _length[_order[rank]]);

    public long CountOf(int rank) => _count[_order[rank]];

    public long ErrorOf(int rank) => _error[_order[rank]];

    private void Fill(SpaceSavingSummary summary, KeyTextFormatter format, long threshold)
    {
        int n = summary.MonitoredCount;
        if (_order.Length < n)
        {
            int size = Math.Max(n, _order.Length * 2);
            _start = new int[size];
            _length = new int[size];
            _count = new long[size];
            _error = new long[size];
            _order = new int[size];
        }

        int used = 0;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            long count = summary.CountAt(i);
            if (count < threshold)
            {
                continue;
            }

            if (_text.Length - used < MaxTextLength)
            {
                Array.Resize(ref _text, Math.Max(_text.Length * 2, used + MaxTextLength));
            }

            int length = format(summary.KeyAt(i), _text.AsSpan(used, MaxTextLength));
            _start[kept] = used;
            _length[kept] = length;
            _count[kept] = count;
            _error[kept] = summary.ErrorAt(i);
            _order[kept] = kept;
            used += length;
            kept++;
        }

        Count = kept;
        _order.AsSpan(0, kept).Sort(new ByCountThenText(this));
    }

    private readonly struct ByCountThenText(RankedKeys ranked) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int byCount = ranked._count[b].CompareTo(ranked._count[a]);
            return byCount != 0
                ? byCount
                : ranked._text.AsSpan(ranked._start[a], ranked._length[a]).SequenceCompareTo(ranked._text.AsSpan(ranked._start[b], ranked._length[b]));
        }
    }
}
