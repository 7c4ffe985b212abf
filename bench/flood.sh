#!/usr/bin/env bash
# Hostile floods: the peak memory of `ratadns monitor` (default reducer set, and all built-in reducers) against its
# stated caps, side by side with tshark reading the same flood file. Four floods from `ratadns gen --flood`:
#   names      a random-subdomain flood: every query a new name (NAMES_PACKETS packets, half of them queries)
#   clients    every query from a new client address (CLIENTS_PACKETS)
#   tcp        a TCP connection flood: SYN + half a DNS message per connection, never completed (TCP_PACKETS)
#   fragments  first IPv4 fragments of large responses that never complete (FRAGMENT_PACKETS)
# Each run is timed with GNU time (peak RSS, wall time). A monitor run above its cap fails the script (exit 1).
#
# Usage: bench/flood.sh [SCALE]   SCALE multiplies the default sizes (1 = 20M names packets = 10M unique names,
#                                  5M clients, 5M tcp, 1M fragments); 0.1 for a quick look. tshark needs about 0.8 GB per
#                                  million packets here (16 GB for the names flood at scale 1).
# Env:   BENCH_DIR=/tmp/ratadns-flood   captures (reused while present), configs, outputs
#        TSHARK=0                       skip tshark (it runs `tshark -r FILE -q -z dns,tree`: dissects every frame for its DNS
#                                       statistics tree, the closest thing it has to the monitor's reducers)
# Needs: dotnet, GNU time (/usr/bin/time), tshark (scripts/setup.sh installs it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${1:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/ratadns-flood}
TSHARK=${TSHARK:-1}
APP_DLL="$ROOT/src/RataDns/bin/Release/net10.0/ratadns.dll"
# The stated caps (MB of peak RSS), whatever the flood and its length: see bench/README.md "Floods" for where they
# come from (bounded reassembly tables and buffers, bounded reducer summaries, the runtime).
CAP_DEFAULT_MB=${CAP_DEFAULT_MB:-400}
CAP_ALL_MB=${CAP_ALL_MB:-500}

die() { echo "flood.sh: $*" >&2; exit 1; }
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) not found (apt-get install -y time)"
mkdir -p "$BENCH_DIR"
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); if (v % 2) v++; print (v < 2 ? 2 : v) }'; }
declare -A SIZE=(
  [names]=$(scaled 20000000) [clients]=$(scaled 5000000) [tcp]=$(scaled 5000000) [fragments]=$(scaled 1000000)
)

echo "## Environment"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- dotnet: $(dotnet --version); tshark: $(tshark --version 2>/dev/null | head -1 | awk '{print $3}')"
echo "- ratadns: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo "- caps: default reducer set ${CAP_DEFAULT_MB} MB, all reducers ${CAP_ALL_MB} MB"
echo

dotnet build -c Release "$ROOT/src/RataDns" -nologo -v q > "$BENCH_DIR/build.log" 2>&1 || die "build failed, see $BENCH_DIR/build.log"
APP=(dotnet "$APP_DLL")

# A monitor configuration: the whole built-in set or the default set, one-second windows, results to a file.
config() { # config FILE CAPTURE all|default
  local names
  if [[ $3 == all ]]; then
    names=$(python3 -c "import json,sys; print(' '.join(r['Name'] for r in json.load(open(sys.argv[1]))['Reducers']))" "$ROOT/bench/monitor-all.json")
  else
    names=""
  fi
  python3 - "$1" "$2" "$BENCH_DIR/out.ndjson" $names <<'EOF'
import json, sys
path, capture, out, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
config = {"ServerId": "flood", "InputMethod": "capture_file", "InputSource": capture, "WindowMilliseconds": 1000,
          "Output": {"OutputMethod": "file", "OutputFile": out}}
if names:
    config["Reducers"] = [{"Name": n} for n in names]
json.dump(config, open(path, "w"), indent=2)
EOF
}

status=0
printf '| flood | packets | tool | peak RSS (MB) | cap (MB) | wall (s) | notes |\n|---|---:|---|---:|---:|---:|---|\n'
for kind in names clients tcp fragments; do
  n=${SIZE[$kind]}
  capture="$BENCH_DIR/flood-$kind-$n.pcap"
  if [[ ! -s $capture ]]; then
    "${APP[@]}" gen "$capture.partial" -n "$n" --seed 42 --flood "$kind" > /dev/null 2>&1 || die "gen --flood $kind failed"
    mv "$capture.partial" "$capture"
  fi

  for set in default all; do
    config "$BENCH_DIR/$set.json" "$capture" "$set"
    cap=$([[ $set == all ]] && echo "$CAP_ALL_MB" || echo "$CAP_DEFAULT_MB")
    rm -f "$BENCH_DIR/out.ndjson"
    if ! /usr/bin/time -f '%M %e' -o "$BENCH_DIR/time" "${APP[@]}" monitor -c "$BENCH_DIR/$set.json" --stats \
        > /dev/null 2> "$BENCH_DIR/monitor-$kind-$set.err"; then
      tail -5 "$BENCH_DIR/monitor-$kind-$set.err" >&2
      die "monitor failed on the $kind flood"
    fi
    read -r kb seconds < <(tail -1 "$BENCH_DIR/time")
    mb=$((kb / 1024))
    dns=$(awk -F': ' '$1 == "dns messages" { print $2 }' "$BENCH_DIR/monitor-$kind-$set.err")
    extra=$(grep -E "^ *(ip fragments|fragments (expired|evicted)|tcp segments|connections (timed out|evicted)|bytes skipped)" "$BENCH_DIR/monitor-$kind-$set.err" | sed "s/^ *//" | tr "\n" ";" | sed "s/;$//")
    verdict=ok
    if (( mb > cap )); then verdict="OVER CAP"; status=1; fi
    printf '| %s | %s | ratadns monitor (%s set) | %s | %s | %s | %s, %s DNS messages%s |\n' \
      "$kind" "$n" "$set" "$mb" "$cap" "$seconds" "$verdict" "${dns:-?}" "${extra:+; $extra}"
  done

  if [[ $TSHARK == 1 ]]; then
    if /usr/bin/time -f '%M %e' -o "$BENCH_DIR/time" tshark -r "$capture" -q -z dns,tree > "$BENCH_DIR/tshark-$kind.out" 2> "$BENCH_DIR/tshark-$kind.err"; then
      read -r kb seconds < <(tail -1 "$BENCH_DIR/time")
      printf '| %s | %s | tshark -q -z dns,tree | %s | - | %s | DNS statistics tap; IP and TCP reassembly on (defaults); %s DNS messages |\n' \
        "$kind" "$n" "$((kb / 1024))" "$seconds" "$(awk '$1 == "Total" && $2 == "Packets" { print $3; exit }' "$BENCH_DIR/tshark-$kind.out")"
    else
      read -r kb seconds < <(tail -1 "$BENCH_DIR/time" 2>/dev/null || echo "0 0")
      printf '| %s | %s | tshark -q -z dns,tree | %s | - | %s | failed: %s |\n' "$kind" "$n" "$((kb / 1024))" "$seconds" "$(grep -v 'Running as user' "$BENCH_DIR/tshark-$kind.err" | head -1)"
    fi
  fi
done
exit $status
