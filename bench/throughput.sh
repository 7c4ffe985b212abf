#!/usr/bin/env bash
# End-to-end throughput: how fast `ratadns serialize` turns a 1M-packet capture into Speedy JSON, next to the
# speed at which tcpdump merely reads and rewrites the same file (the practical read limit).
#
# Usage: bench/throughput.sh            (env: PACKETS=1000000 SEED=42 RUNS=5 FILE=/tmp/...pcap)
# The capture is generated once with bench/gen-capture.cs (SyntheticCapture) and reused while it exists.
# Timings come from hyperfine when installed (apt-get install -y hyperfine), else from a loop with /usr/bin/time.
# All commands run in one session (hyperfine: one block of runs per command, after a warm-up); on a noisy machine
# read the ratios.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKETS=${PACKETS:-1000000}
SEED=${SEED:-42}
RUNS=${RUNS:-5}
FILE=${FILE:-/tmp/ratadns-synthetic-${PACKETS}-seed${SEED}.pcap}
APP_DLL="$ROOT/src/RataDns/bin/Release/net10.0/ratadns.dll"
APP="dotnet $APP_DLL"

dotnet build -c Release "$ROOT/src/RataDns" -nologo -v q > /dev/null

if [[ ! -s "$FILE" ]]; then
  dotnet run -c Release "$ROOT/bench/gen-capture.cs" -- "$FILE" "$PACKETS" "$SEED"
fi

# Count the packets actually in the file (it may be a reused or user-supplied one).
COUNT=$(capinfos -c -M "$FILE" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
COUNT=${COUNT:-$PACKETS}
echo "capture: $FILE ($COUNT packets, $(stat -c %s "$FILE") bytes)"

if ! $APP serialize --help > /dev/null 2>&1; then
  echo "ratadns serialize is not available yet (dotnet $APP_DLL serialize --help failed); only tcpdump is timed." >&2
  SERIALIZE=0
else
  SERIALIZE=1
fi

# tcpdump -w - only reads and copies (the read limit); tcpdump -nn -r decodes each packet into a summary line,
# the closest thing to what serialize does.
names=("tcpdump -r FILE -w -" "tcpdump -nn -r FILE")
commands=("tcpdump -r $FILE -w - > /dev/null 2>&1" "tcpdump -nn -r $FILE > /dev/null 2>&1")
if [[ $SERIALIZE == 1 ]]; then
  names+=("ratadns serialize FILE" "ratadns serialize --ndjson FILE" "ratadns serialize --sections source,dest,queries FILE")
  commands+=("$APP serialize $FILE > /dev/null" "$APP serialize --ndjson $FILE > /dev/null" "$APP serialize --sections source,dest,queries $FILE > /dev/null")
fi

RESULTS=$(mktemp /tmp/ratadns-throughput.XXXXXX)
trap 'rm -f "$RESULTS"' EXIT

if command -v hyperfine > /dev/null; then
  args=()
  for i in "${!commands[@]}"; do
    args+=(-n "${names[$i]}" "${commands[$i]}")
  done
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$RESULTS.json" "${args[@]}"
  python3 - "$RESULTS.json" > "$RESULTS" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["mean"]}\t{r["stddev"] or 0}\t{r["command"]}')
PY
  rm -f "$RESULTS.json"
else
  echo "hyperfine not found: timing with /usr/bin/time, $RUNS alternating rounds" >&2
  declare -A total
  for i in "${!commands[@]}"; do bash -c "${commands[$i]}"; total[$i]=0; done   # warm-up round
  for _ in $(seq 1 "$RUNS"); do
    for i in "${!commands[@]}"; do
      t=$( { /usr/bin/time -f %e bash -c "${commands[$i]}" ; } 2>&1 | tail -1 )
      total[$i]=$(python3 -c "print(${total[$i]} + $t)")
    done
  done
  for i in "${!commands[@]}"; do
    printf '%s\t0\t%s\n' "$(python3 -c "print(${total[$i]} / $RUNS)")" "${names[$i]}" >> "$RESULTS"
  done
fi

echo
python3 - "$RESULTS" "$COUNT" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
count = int(sys.argv[2])
base = float(rows[0][0])
print(f'{"command":<36} {"mean s":>8} {"± s":>6} {"packets/s":>12} {"time vs tcpdump":>16}')
for mean, sd, name in rows:
    mean, sd = float(mean), float(sd)
    print(f'{name:<36} {mean:8.3f} {sd:6.3f} {count / mean:12,.0f} {mean / base:15.2f}x')
PY
