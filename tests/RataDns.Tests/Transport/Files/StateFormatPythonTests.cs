using System.Text.RegularExpressions;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;

namespace RataDns.Tests.Transport.Files;

/// <summary>
/// The Python decoder of docs/wire-format.md ("Decoding a state"), run as written with python3-msgpack on state
/// containers written by RcodeCounter and TopNQ, prints the counts of the queries and responses the test made: the
/// state format is readable with no RataDns code, as the document says.
/// </summary>
public partial class StateFormatPythonTests
{
    [SkippableFact]
    public void The_documented_python_decoder_reads_the_counts_of_a_state()
    {
        Skip.IfNot(
            File.Exists(ExternalTool.SystemPython) && ExternalTool.Run(ExternalTool.SystemPython, ["-c", "import msgpack"], out _, out _, timeoutMs: 30_000) == 0,
            "python3 with msgpack is needed (apt-get install python3-msgpack)");
        string doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "wire-format.md"));
        var snippet = SnippetPattern().Match(doc);
        Assert.True(snippet.Success, "docs/wire-format.md has a python block after \"### Decoding a state (Python)\"");

        // Names asked 3, 2 and 1 times; two NOERROR and one NXDOMAIN response.
        var packets = new List<TestPacket>
        {
            ReducerTestSupport.Query(1, "10.0.0.1", 1000, 0, ("www.Example.com", 1)),
            ReducerTestSupport.Query(2, "10.0.0.1", 1001, 1, ("www.example.com", 1)),
            ReducerTestSupport.Query(3, "10.0.0.2", 1002, 2, ("www.example.com", 28)),
            ReducerTestSupport.Query(4, "10.0.0.2", 1003, 3, ("mail.example.org", 15)),
            ReducerTestSupport.Query(5, "10.0.0.3", 1004, 4, ("mail.example.org", 15)),
            ReducerTestSupport.Query(6, "10.0.0.3", 1005, 5, ("nx.example.net", 1)),
            ReducerTestSupport.Response(1, "10.0.0.1", 1000, 6, ("www.example.com", 1)),
            ReducerTestSupport.Response(4, "10.0.0.2", 1003, 7, ("mail.example.org", 15)),
        };
        var rcodes = ReducerRegistry.Create(new ReducerConfiguration { Name = "RcodeCounter" });
        var top = ReducerRegistry.Create(new ReducerConfiguration { Name = "TopNQ" });
        ReducerTestSupport.ObserveAll(rcodes, packets);
        ReducerTestSupport.ObserveAll(top, packets);
        var nx = new TestMessageBuilder { Id = 6, Flags = 0x8183 };
        nx.Question("nx.example.net", 1);
        new TestPacket(nx.ToArray(), 8, ReducerTestSupport.Server, 53, System.Net.IPAddress.Parse("10.0.0.3"), 1005).ObserveIn(rcodes);

        string script = Path.GetTempFileName();
        string rcodeState = Path.GetTempFileName();
        string topState = Path.GetTempFileName();
        try
        {
            File.WriteAllText(script, "import sys\ndata = open(sys.argv[1], 'rb').read()\n" + snippet.Groups[1].Value);
            File.WriteAllBytes(rcodeState, ReducerState.ToArray(rcodes));
            File.WriteAllBytes(topState, ReducerState.ToArray(top));

            Assert.Equal(0, ExternalTool.Run(ExternalTool.SystemPython, [script, rcodeState], out string rcodeOutput, out string rcodeErrors));
            Assert.True(rcodeErrors.Length == 0, rcodeErrors);
            Assert.Equal("{0: 2, 3: 1}", rcodeOutput.Trim());

            Assert.Equal(0, ExternalTool.Run(ExternalTool.SystemPython, [script, topState], out string topOutput, out string topErrors));
            Assert.True(topErrors.Length == 0, topErrors);
            var lines = topOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
            Assert.Equal(
                [
                    "www.example.com. 3 (true count in [3, 3])",
                    "mail.example.org. 2 (true count in [2, 2])",
                    "nx.example.net. 1 (true count in [1, 1])",
                ],
                lines);
        }
        finally
        {
            File.Delete(script);
            File.Delete(rcodeState);
            File.Delete(topState);
        }
    }

    [GeneratedRegex(@"### Decoding a state \(Python\)\s+```python\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex SnippetPattern();
}
