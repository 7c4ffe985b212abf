#!/usr/bin/env bash
# Builds RataDns, captures live DNS traffic from a real server for the conformance test, runs every test, and ends
# with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/ratadns-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build -c Release RataDns.slnx -v quiet -nologo || { echo "0 passed, 1 failed"; exit 1; }

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
failed=$(( $(get failed) + $(get error) + $(get timeout) + $(get aborted) ))
skipped=$(( $(get total) - $(get executed) ))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
exit $status
