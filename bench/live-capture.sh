#!/usr/bin/env bash
# Live capture under load (run as root): tcpreplay sends packets of a synthetic DNS capture over a veth pair at
# increasing rates while `ratadns inspect -i` captures on the far end; then the same replay is captured by
# `tcpdump -w - > /dev/null`. For each rate: packets sent, packets each tool saw, and the drops libpcap reports.
# Goal: ratadns drops no more than tcpdump at any rate.
#
# Usage: bench/live-capture.sh   (env: PACKETS=200000 RATES="50000 100000 200000 400000 0" FILE=...; rate 0 = topspeed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKETS=${PACKETS:-200000}
RATES=${RATES:-"50000 100000 200000 400000 0"}
FILE=${FILE:-/tmp/ratadns-synthetic-1000000-seed42.pcap}
A=rdnsbench0
B=rdnsbench1

command -v tcpreplay > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay > /dev/null; }
dotnet build -c Release "$ROOT/src/RataDns" -nologo -v q > /dev/null
APP="dotnet $ROOT/src/RataDns/bin/Release/net10.0/ratadns.dll"
[[ -s "$FILE" ]] || dotnet run -c Release "$ROOT/bench/gen-capture.cs" -- "$FILE" 1000000 42

# shellcheck source=bench/veth-pair.sh
source "$ROOT/bench/veth-pair.sh"
veth_pair "$A" "$B"

replay() {
  local rate=$1
  if [[ $rate == 0 ]]; then
    tcpreplay -q -i "$A" --topspeed --limit="$PACKETS" "$FILE" 2>&1 | grep -Eo "Actual: [0-9]+ packets.*|Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps" | tr '\n' ' '
  else
    tcpreplay -q -i "$A" --pps="$rate" --limit="$PACKETS" "$FILE" 2>&1 | grep -Eo "Actual: [0-9]+ packets.*|Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps" | tr '\n' ' '
  fi
}

printf '%-10s %-9s %-12s %-12s %-12s %-12s %-12s %s\n' rate tool sent seen kernel_drop if_drop ring_drop replay
for rate in $RATES; do
  # ratadns: the capture thread copies frames into the ring; the pipeline decodes and reassembles behind it.
  out=$(mktemp)
  $APP inspect -i "$B" -f "port 53" --promiscuous > "$out" 2>&1 &
  pid=$!
  sleep 3
  info=$(replay "$rate")
  sleep 2
  kill -TERM "$pid"; wait "$pid" || true
  seen=$(awk -F': ' '/^frames:/ {print $2}' "$out")
  kd=$(awk -F': ' '/^kernel drops:/ {print $2}' "$out"); kd=${kd:-0}
  idr=$(awk -F': ' '/^interface drops:/ {print $2}' "$out"); idr=${idr:-0}
  rd=$(awk -F': ' '/^ring drops:/ {print $2}' "$out"); rd=${rd:-0}
  printf '%-10s %-9s %-12s %-12s %-12s %-12s %-12s %s\n' "${rate/#0/top}" ratadns "$PACKETS" "$seen" "$kd" "$idr" "$rd" "$info"
  rm -f "$out"

  # tcpdump on the same replay, writing the capture and throwing it away (never -w /dev/null as root).
  err=$(mktemp)
  tcpdump -i "$B" -U -w - "port 53" 2> "$err" > /dev/null &
  pid=$!
  sleep 2
  info=$(replay "$rate")
  sleep 2
  kill -TERM "$pid"; wait "$pid" || true
  seen=$(awk '/packets captured/ {print $1}' "$err")
  kd=$(awk '/dropped by kernel/ {print $1}' "$err")
  idr=$(awk '/dropped by interface/ {print $1}' "$err"); idr=${idr:-0}
  printf '%-10s %-9s %-12s %-12s %-12s %-12s %-12s %s\n' "${rate/#0/top}" tcpdump "$PACKETS" "$seen" "$kd" "$idr" "-" "$info"
  rm -f "$err"
done
