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

dotnet test tests/RataDns.Tests -c Release --no-build -nologo --logger "console;verbosity=normal" > "$work/test.log" 2>&1
status=$?
grep -E "^\s+(Failed|Skipped) |Error Message|Skipped .*\]|Assert|Expected|Actual|Passed!|Failed!" "$work/test.log" | grep -v "^\s*Passed " | head -200
summary=$(grep -E "(Passed|Failed)!\s+-" "$work/test.log" | tail -1)
if [ -z "$summary" ]; then
  tail -50 "$work/test.log"
  echo "0 passed, 1 failed"
  exit 1
fi
passed=$(sed -E 's/.*Passed:\s+([0-9]+).*/\1/' <<<"$summary")
failed=$(sed -E 's/.*Failed:\s+([0-9]+).*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped:\s+([0-9]+).*/\1/' <<<"$summary")
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
