#!/usr/bin/env bash
# Builds RataDns, captures live DNS traffic from a real server for the conformance test, runs every test, and ends
# with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/ratadns-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build -c Release RataDns.slnx -v quiet -nologo || { echo "0 passed, 1 failed"; exit 1; }
# The deployable single file (artifacts/publish/ratadns), after the build so that the libraries are up to date and
# only the app is compiled (and ReadyToRun-compiled) again: about 20 s of CPU, minutes of wall time only on a loaded
# machine. tests/RataDns.Tests/App/PublishedBinaryTests.cs runs it. A failure counts as one failed test.
publish_failed=0
bash scripts/publish.sh > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; echo "scripts/publish.sh failed"; publish_failed=1; }

# A real authoritative server (knot) on loopback, driven by dnsperf over UDP and TCP while tcpdump captures.
if bash tests/conformance/live-capture.sh "$work/live"; then
  export RATADNS_LIVE_PCAP="$work/live/live.pcap"
else
  echo "test.sh: live capture failed; the live conformance test will report it" >&2
  export RATADNS_LIVE_PCAP="$work/live/FAILED"
fi

dotnet test tests/RataDns.Tests -c Release --no-build -nologo \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" --results-directory "$work/results" \
  > "$work/test.log" 2>&1
status=$?
# Failures and skips with their reasons, then the totals from the TRX report (independent of console wording).
grep -E "^\s+(Failed|Skipped) " -A12 "$work/test.log" | grep -vE "^\s+Passed " | head -300
trx=$(ls "$work"/results/*.trx 2>/dev/null | head -1)
if [ -z "$trx" ]; then
  tail -50 "$work/test.log"
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
get() { sed -E "s/.* $1=\"([0-9]+)\".*/\1/" <<<"$counters"; }
passed=$(get passed)
failed=$(( $(get failed) + $(get error) + $(get timeout) + $(get aborted) + publish_failed ))
skipped=$(( $(get total) - $(get executed) ))

# The fuzz smoke run: each fuzz target under afl-fuzz for a short, fixed time; a crash or hang fails it.
sharpfuzz=$(command -v sharpfuzz || echo /opt/ratadns-tools/sharpfuzz)
if command -v afl-fuzz >/dev/null && [ -x "$sharpfuzz" ]; then
  SHARPFUZZ=$sharpfuzz bash fuzz/smoke.sh "${FUZZ_SMOKE_SECONDS:-30}" > "$work/fuzz.log" 2>&1
  grep -v "passed, .* failed$" "$work/fuzz.log"
  fuzz=$(tail -1 "$work/fuzz.log")
  if [[ $fuzz =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$(( passed + BASH_REMATCH[1] ))
    failed=$(( failed + BASH_REMATCH[2] ))
  else
    echo "fuzz smoke: no summary line"; tail -20 "$work/fuzz.log"
    failed=$(( failed + 1 ))
  fi
else
  echo "fuzz smoke: skipped, afl-fuzz or sharpfuzz missing (bash scripts/setup.sh installs both)"
  skipped=$(( skipped + 7 ))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
exit $status
