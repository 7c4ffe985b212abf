#!/usr/bin/env bash
# Live capture rate (run as root): trafgen (netsniff-ng's packet generator, a TX_RING sender much faster than
# tcpreplay) sends DNS packets taken from the synthetic capture over a veth pair at increasing rates, while on the
# far end, one at a time,
#   - `ratadns monitor` (the shipped build, default reducer set) captures them,
#   - `tcpdump -i B -w - > /dev/null` captures them (the read-and-copy reference),
#   - `dnscap -i B -w - > /dev/null` (DNS-OARC's capture tool) captures them.
# For each rate and tool: packets sent (trafgen's count), packets the tool saw, and the drops it reports. The
# highest rate a tool keeps with 0 drops is its live ceiling here; the sender shares the 2 cores with the capture.
#
# Usage: bench/live-monitor.sh   (env: PACKETS=1000000 RATES="200000 400000 800000 1200000 1600000 0" (0 = as fast as trafgen
#        can), BENCH_DIR=/tmp/ratadns-bench, RATADNS=PATH (default: scripts/publish.sh into BENCH_DIR/publish))
# Needs: root, ip (iproute2), trafgen and netsniff-ng (apt-get install -y netsniff-ng), tcpdump, dnscap, python3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKETS=${PACKETS:-1000000}
RATES=${RATES:-"200000 400000 800000 1200000 1600000 0"}
BENCH_DIR=${BENCH_DIR:-/tmp/ratadns-bench}
A=rdnslive0
B=rdnslive1
die() { echo "live-monitor.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (veth pair, raw sockets)"
for tool in ip trafgen netsniff-ng tcpdump dnscap python3; do
  command -v "$tool" > /dev/null || die "$tool not found (apt-get install -y netsniff-ng tcpdump dnscap iproute2)"
done
mkdir -p "$BENCH_DIR"
if [[ -n ${RATADNS:-} ]]; then APP=$RATADNS; else
  "$ROOT/scripts/publish.sh" "$BENCH_DIR/publish" > "$BENCH_DIR/live-build.log" 2>&1 || die "publish failed: $BENCH_DIR/live-build.log"
  APP=$BENCH_DIR/publish/ratadns
fi

# 1,000 packets of the synthetic capture (queries and responses, 20% IPv6) as a trafgen configuration, sent in a loop.
SOURCE="$BENCH_DIR/live-source.pcap"
[[ -s $SOURCE ]] || "$APP" gen "$SOURCE" -n 1000 --seed 42 -q
CONF="$BENCH_DIR/live-source.cfg"
netsniff-ng --in "$SOURCE" --out "$CONF" -n 1000 -s > /dev/null 2>&1 || die "netsniff-ng could not convert $SOURCE"

# shellcheck source=bench/veth-pair.sh
source "$ROOT/bench/veth-pair.sh"
veth_pair "$A" "$B"

OUTPUT="$BENCH_DIR/live-monitor.ndjson"
DEFAULT_CONFIG="$BENCH_DIR/live-monitor-default.json"
echo "{\"ServerId\": \"live\", \"InputMethod\": \"interface\", \"InputSource\": \"$B\", \"Output\": {\"OutputMethod\": \"file\", \"OutputFile\": \"$OUTPUT\"}}" > "$DEFAULT_CONFIG"

send() { # send RATE: trafgen's count of packets sent, and the rate it achieved (packets / wall time of the send)
  local rate=$1 args=() start end sent
  [[ $rate == 0 ]] || args=(-b "${rate}pps")
  start=$(date +%s%N)
  sent=$(trafgen --dev "$A" --conf "$CONF" -n "$PACKETS" -P 1 "${args[@]}" 2>&1 | tr -d '\r' | awk '/packets outgoing/ {print $1}' | tail -1)
  end=$(date +%s%N)
  echo "${sent:-0} $(( ${sent:-0} * 1000000000 / (end - start) ))"
}

capture() { # capture TOOL RATE: one line of results
  local tool=$1 rate=$2 pid sent seen drops log="$BENCH_DIR/live-$1.log"
  : > "$OUTPUT"
  case $tool in
    ratadns) "$APP" monitor -c "$DEFAULT_CONFIG" > /dev/null 2> "$log" & pid=$! ;;
    tcpdump) tcpdump -i "$B" -n -w - > /dev/null 2> "$log" & pid=$! ;;
    dnscap)  dnscap -N -i "$B" -w - -S > /dev/null 2> "$log" & pid=$! ;;
  esac
  sleep 3
  read -r sent achieved < <(send "$rate")
  sleep 2
  kill -TERM "$pid" 2> /dev/null || true   # not INT: a background job of a script ignores SIGINT
  wait "$pid" 2> /dev/null || true
  case $tool in
    ratadns)
      read -r seen drops < <(python3 - "$OUTPUT" "$log" <<'PY'
import json, re, sys
seen = drops = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "PacketsQueriesAndAnswersPerSecond":
        seen += r["window"]["packets"]; drops += r["window"].get("drops", 0)
print(seen, drops)
PY
) ;;
    tcpdump)
      seen=$(awk '/packets captured/ {print $1}' "$log"); drops=$(awk '/dropped by kernel/ {print $1}' "$log") ;;
    dnscap)
      # "IF: N recv D drop T total ptdrop P" (-S): packets libpcap handed over (the DNS filter's) and dropped.
      seen=$(sed -n "s/^$B: \([0-9]*\) recv.*/\1/p" "$log" | tail -1)
      drops=$(sed -n "s/^$B: [0-9]* recv \([0-9]*\) drop.*/\1/p" "$log" | tail -1) ;;
  esac
  printf '| %s | %s | %s | %s | %s | %s |\n' "$([[ $rate == 0 ]] && echo 'top speed' || echo "$rate")" "$achieved" "$tool" "${sent:-?}" "${seen:-?}" "${drops:-?}"
}

echo "## Live capture on a veth pair, $PACKETS packets per run ($(date -u +%Y-%m-%d), ratadns $(git -C "$ROOT" rev-parse --short HEAD))"
echo
echo "| packets/s asked | packets/s sent | tool | sent | seen | dropped |"
echo "|---|---:|---|---:|---:|---:|"
for rate in $RATES; do
  for tool in ratadns tcpdump dnscap; do
    capture "$tool" "$rate"
  done
done
