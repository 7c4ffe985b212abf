#!/usr/bin/env bash
# Usage: fuzz/run.sh TARGET SECONDS   (TARGET: dns | frame | pcap | reassembly | config | state)
#
# Builds the harness, instruments copies of the RataDns DLLs with SharpFuzz, runs afl-fuzz on one core for SECONDS,
# then prints the figures from fuzzer_stats. Findings go to fuzz/findings/TARGET/default/{crashes,hangs,queue}.
# The state target's seeds are written by the harness itself (RataDns.Fuzz state --make-seeds, into
# .work/state/made-seeds) from the reducers of this build.
# FUZZ_FINDINGS overrides the findings directory, FUZZ_TIMEOUT_MS the time after which an input counts as a hang.
# Needs: afl-fuzz (apt-get install -y afl++) and the sharpfuzz tool (see README.md; SHARPFUZZ overrides its path).
set -euo pipefail

target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
seeds=$here/seeds/$target
[[ -d $seeds || $target == state ]] || { echo "no seeds for target '$target' in $seeds" >&2; exit 2; }

sharpfuzz=${SHARPFUZZ:-$(command -v sharpfuzz || echo /opt/ratadns-tools/sharpfuzz)}
[[ -x $sharpfuzz ]] || sharpfuzz=/tmp/sharpfuzz-tool/sharpfuzz
[[ -x $sharpfuzz ]] || { echo "sharpfuzz not found: dotnet tool install --tool-path /opt/ratadns-tools SharpFuzz.CommandLine --version 2.3.0 (scripts/setup.sh does it)" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install -y afl++" >&2; exit 2; }

dotnet build "$here/RataDns.Fuzz" -c Release -nologo -v quiet
if [[ $target == state ]]; then
    # Fresh each run: valid containers and bodies of every reducer type that has a state in this build.
    seeds=$here/.work/state/made-seeds
    "$here/RataDns.Fuzz/bin/Release/net10.0/RataDns.Fuzz" state --make-seeds "$seeds"
fi

# Instrument a fresh copy each run: sharpfuzz rewrites a DLL in place and the build output must stay clean.
bin=$here/.work/$target/bin
rm -rf "$bin"
mkdir -p "$bin"
cp -r "$here/RataDns.Fuzz/bin/Release/net10.0/." "$bin/"
for dll in RataDns.DnsWire RataDns.Capture RataDns.Reducers RataDns.Configuration; do
    "$sharpfuzz" "$bin/$dll.dll"
done

# Seeds: the committed ones, plus single messages/frames/small captures extracted from the shared corpus when it is
# there (never committed; RATADNS_CORPUS overrides its path).
corpus=${RATADNS_CORPUS:-$here/../../shared/corpus}
input=$here/.work/$target/seeds
rm -rf "$input"
mkdir -p "$input"
cp "$seeds"/* "$input/"
if [[ -d $corpus ]] && [[ $target != config && $target != state ]]; then
    python3 "$here/corpus-seeds.py" "$corpus" "$here/.work/corpus-seeds" | grep "^$target:" || true
    cp "$here/.work/corpus-seeds/$target"/* "$input/" 2>/dev/null || true
fi
echo "seeds:        $(ls "$input" | wc -l) files"

findings=${FUZZ_FINDINGS:-$here/findings/$target}
mkdir -p "$findings"
# -i - resumes an existing findings directory; a fresh one starts from the seeds.
[[ -f $findings/default/fuzzer_stats ]] && input=-

export AFL_SKIP_BIN_CHECK=1                       # the forkserver is SharpFuzz's, not compiled-in AFL
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1                           # shared cores: do not pin
export AFL_NO_UI=1
export AFL_FORKSRV_INIT_TMOUT=${AFL_FORKSRV_INIT_TMOUT:-60000}
dictionary=()
[[ -f $here/dictionaries/$target.dict ]] && dictionary=(-x "$here/dictionaries/$target.dict")
afl-fuzz -i "$input" -o "$findings" "${dictionary[@]}" -t "${FUZZ_TIMEOUT_MS:-5000}" -m none -V "$seconds" -- "$bin/RataDns.Fuzz" "$target" \
    > "$here/.work/$target/afl.log" 2>&1 || { tail -30 "$here/.work/$target/afl.log" >&2; exit 1; }

stats=$findings/default/fuzzer_stats
field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "target:       $target ($seconds s)"
echo "execs/s:      $(field execs_per_sec)"
echo "total execs:  $(field execs_done)"
echo "corpus:       $(field corpus_count) paths"
echo "crashes:      $(field saved_crashes)"
echo "hangs:        $(field saved_hangs)"
echo "stability:    $(field stability), bitmap coverage $(field bitmap_cvg), $(field cycles_done) queue cycles"
echo "findings:     $findings/default"
