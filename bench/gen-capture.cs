#:project ../src/RataDns/RataDns.csproj
#:property TreatWarningsAsErrors=true

// Writes a synthetic DNS capture with RataDns.App.Gen.SyntheticCapture, without depending on the CLI's `gen`
// subcommand. Usage: dotnet run bench/gen-capture.cs -- FILE [PACKETS=1000000] [SEED=42] [PACKETS_PER_SECOND=10000]
using System.Diagnostics;
using System.Globalization;
using RataDns.App.Gen;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: gen-capture.cs FILE [PACKETS] [SEED] [PACKETS_PER_SECOND]");
    return 2;
}

long packets = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
int seed = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 42;
double rate = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 10_000;
var clock = Stopwatch.StartNew();
long written = SyntheticCapture.Write(args[0], packets, seed, rate);
clock.Stop();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{args[0]}: {written:N0} packets, {new FileInfo(args[0]).Length:N0} bytes in {clock.Elapsed.TotalSeconds:F2} s ({written / clock.Elapsed.TotalSeconds:N0} packets/s)"));
return 0;
