using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// <c>ratadns serialize</c> against tshark's reference dumps of every capture in ../shared/corpus (made by tshark
/// 4.0.17, see corpus/README.md). A file agrees exactly, or it is in a documented class where tshark sees more than
/// we do yet; for those, everything we write must still be among tshark's messages (ours ⊆ tshark's).
/// </summary>
public class CorpusConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        var corpus = RepoPaths.Corpus;
        if (corpus is null)
        {
            data.Add("(corpus absent)");
            return data;
        }

        foreach (var row in CorpusIndex.Read(corpus))
        {
            if (row.HasTsharkMessages(corpus))
            {
                data.Add(row.File);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Serialize_agrees_with_tshark(string file)
    {
        var corpus = RepoPaths.Corpus;
        Skip.If(corpus is null, RepoPaths.CorpusMissing);
        var row = CorpusIndex.Read(corpus!).Single(r => r.File == file);
        var tsv = File.ReadAllText(row.TsharkDumpPath(corpus!));
        var theirs = TsharkConformance.ParseTsharkRows(tsv);
        var ports = row.PortsAsTsharkDissects(tsv);
        var (ours, exit, errors) = TsharkConformance.Serialize(Path.Combine(corpus!, file), ports);
        var description = TsharkConformance.Describe(ours, theirs);
        output.WriteLine(description);
        output.WriteLine(errors);

        var difference = CorpusDifferences.Expected(row);
        if (CorpusDifferences.Unrelated(row) is { } unrelated)
        {
            output.WriteLine($"not compared: {unrelated}");
        }
        else if (CorpusDifferences.Tolerated(row) is { } tolerated)
        {
            output.WriteLine($"tolerated difference: {tolerated.Reason}");
            var known = theirs.ToHashSet();
            int onlyOurs = ours.Count(m => !known.Contains(m));
            Assert.True(onlyOurs <= tolerated.MaxOnlyOurs, $"{file} ({tolerated.Reason}): {onlyOurs} of our messages are not tshark's, at most {tolerated.MaxOnlyOurs} expected: {description}");
        }
        else if (difference is null)
        {
            Assert.True(TsharkConformance.MultisetMinus(ours, theirs).Count == 0 && ours.Count == theirs.Count, $"{file}: {description}");
        }
        else
        {
            output.WriteLine($"expected difference: {difference}");
            // Retransmitted TCP segments give the same message twice; tshark dissects one copy. So: set inclusion.
            var known = theirs.ToHashSet();
            Assert.True(ours.All(known.Contains), $"{file} ({difference}): we wrote messages tshark does not have: {description}");
        }

        Assert.True(exit is 0 or 1, $"exit {exit}: {errors}");
    }
}
