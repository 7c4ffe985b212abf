using System.Text;
using RataDns.Reducers.Summaries;

namespace RataDns.Tests.Reducers;

/// <summary>
/// Ranking only the keys that can be among the first N (those whose count reaches the N-th largest, ties included)
/// gives the same first N ranks, in the same order, as ranking every key, which is what TopN and the heavy-hitter
/// reducers write: checked on random summaries with many tied counts, and on the edges (N = 0, 1, all, more).
/// </summary>
public class RankedKeysTests
{
    private static readonly KeyTextFormatter AsText = (key, text) =>
    {
        key.CopyTo(text);
        return key.Length;
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_first_n_ranks_are_those_of_the_full_ranking(int seed)
    {
        var random = new Random(seed);
        var summary = new SpaceSavingSummary(64);
        for (int i = 0; i < 400; i++)
        {
            // Few distinct weights: many ties, which are ranked by text.
            summary.Offer(Encoding.ASCII.GetBytes($"key{random.Next(100):D3}"), random.Next(1, 4));
        }

        var full = Snapshot(RankedKeys.Rank(summary, AsText), int.MaxValue);
        foreach (int n in new[] { 0, 1, 2, 5, 10, 20, 63, 64, 65, 1000 })
        {
            var limited = RankedKeys.Rank(summary, AsText, n);
            Assert.True(limited.Count >= Math.Min(n, full.Count), $"n = {n}: {limited.Count} ranked");
            Assert.Equal(full.Take(n), Snapshot(limited, n));
        }
    }

    private static List<(string Key, long Count, long Error)> Snapshot(RankedKeys ranked, int n) =>
        [.. Enumerable.Range(0, Math.Min(n, ranked.Count)).Select(i => (Encoding.ASCII.GetString(ranked.Text(i)), ranked.CountOf(i), ranked.ErrorOf(i)))];
}
