#!/usr/bin/env bash
# Usage: fuzz/smoke.sh [SECONDS]   (default 30 per target; FUZZ_TARGETS="dns pcap" runs only those)
#
# The CI smoke run: for each fuzz target, replays the committed seeds and regression inputs uninstrumented, then runs
# afl-fuzz for SECONDS from a fresh findings directory. A target passes when every replay passes and afl-fuzz saved
# no crash and no hang. Prints one line per target and ends with "N passed, N failed".
set -uo pipefail
seconds=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ratadns-fuzz-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

if ! dotnet build "$here/RataDns.Fuzz" -c Release -nologo -v quiet > "$work/build.log" 2>&1; then
    tail -20 "$work/build.log"
    echo "fuzz smoke: the harness does not build"
    echo "0 passed, 1 failed"
    exit 1
fi
harness=$here/RataDns.Fuzz/bin/Release/net10.0/RataDns.Fuzz

# The state target's seeds are made by the harness from this build's reducers (run.sh makes them again).
"$harness" state --make-seeds "$work/seeds-state" > /dev/null

for target in ${FUZZ_TARGETS:-dns frame pcap reassembly config state dnstap}; do
    ok=1
    seeds=$here/seeds/$target
    [[ $target == state ]] && seeds=$work/seeds-state
    for dir in "$seeds" "$here/regressions/$target"; do
        [[ -d $dir ]] || continue
        if ! "$harness" "$target" --replay "$dir" > "$work/replay.log" 2>&1; then
            ok=0
            echo "fuzz smoke $target: replay of $dir failed:"
            grep -A8 "^FAIL" "$work/replay.log" | head -40
        fi
    done

    findings=$work/findings-$target
    if ! FUZZ_FINDINGS=$findings FUZZ_TIMEOUT_MS=${FUZZ_TIMEOUT_MS:-5000} "$here/run.sh" "$target" "$seconds" > "$work/run.log" 2>&1; then
        ok=0
        echo "fuzz smoke $target: afl-fuzz did not run:"
        tail -15 "$work/run.log"
    else
        stats=$findings/default/fuzzer_stats
        field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
        crashes=$(field saved_crashes)
        hangs=$(field saved_hangs)
        summary="$(field execs_done) execs at $(field execs_per_sec)/s, $(field corpus_count) paths, $crashes crashes, $hangs hangs"
        if [[ ${crashes:-1} != 0 || ${hangs:-1} != 0 ]]; then
            ok=0
            echo "fuzz smoke $target: FAILED ($summary)"
            for f in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
                [[ -f $f ]] || continue
                echo "  input $(basename "$f"): $(head -c 256 "$f" | od -An -tx1 | tr -d '\n' | cut -c1-200)"
                timeout 20 "$harness" "$target" --replay "$(dirname "$f")" 2>&1 | grep -A6 "^FAIL" | head -14
                break
            done
        else
            echo "fuzz smoke $target: ok ($summary)"
        fi
    fi

    if [[ $ok == 1 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
