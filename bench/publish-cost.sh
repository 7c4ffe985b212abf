#!/usr/bin/env bash
# The CPU cost of publishing: `ratadns monitor` with every built-in reducer replays a 20-second capture in real time
# (--speed 1) and publishes on ZeroMQ (MessagePack) to a pyzmq subscriber, once with 100 ms windows (200 windows,
# about 6,000 results) and once with a single one-hour window; the difference in CPU time (user + system), over
# the 20 s, is the share of one core that cutting, writing, encoding and sending the results costs.
#
# Usage: bench/publish-cost.sh [REPS]   (default 2)    Env: BENCH_DIR=/tmp/ratadns-bench
# Needs: dotnet, GNU time, /usr/bin/python3 with python3-zmq (scripts/setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${1:-2}
BENCH_DIR=${BENCH_DIR:-/tmp/ratadns-bench}
mkdir -p "$BENCH_DIR"
APP=(dotnet "$ROOT/src/RataDns/bin/Release/net10.0/ratadns.dll")
dotnet build -c Release "$ROOT/src/RataDns" -nologo -v q > "$BENCH_DIR/build.log" 2>&1 || { echo "build failed: $BENCH_DIR/build.log" >&2; exit 1; }
CAPTURE="$BENCH_DIR/realistic-200000-seed42.pcap"   # 200,000 packets at 10,000 per second: 20 s
[[ -s $CAPTURE ]] || "${APP[@]}" gen "$CAPTURE" -n 200000 --seed 42 --rate 10000 >&2
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KNOWN=$(echo '{"PreliminarReducers":[{"Name":"?"}]}' > "$BENCH_DIR/probe.json"; "${APP[@]}" monitor -c "$BENCH_DIR/probe.json" 2>&1 | sed -n 's/.*known reducers: \(.*\)\.$/\1/p' || true)

config() { # config FILE WINDOW_MS
  /usr/bin/python3 - "$1" "$2" "$CAPTURE" "$PORT" "$KNOWN" <<'PY'
import json, sys
path, window, capture, port, known = sys.argv[1:]
json.dump({"ServerId": "bench", "WindowMilliseconds": int(window), "InputMethod": "capture_file", "InputSource": capture,
           "Speed": 1, "ZeroMq": {"Bind": f"tcp://127.0.0.1:{port}"}, "Output": {"OutputMethod": "zmq"},
           "PreliminarReducers": [{"Name": n.strip()} for n in known.split(",")]}, open(path, "w"))
PY
}
config "$BENCH_DIR/publish-100ms.json" 100
config "$BENCH_DIR/publish-1h.json" 3600000

run() { # run NAME CONFIG: prints NAME cpu_seconds wall_seconds results_received
  local name=$1 cfg=$2
  /usr/bin/python3 -c '
import sys, zmq
s = zmq.Context().socket(zmq.SUB); s.setsockopt(zmq.SUBSCRIBE, b""); s.setsockopt(zmq.RCVHWM, 1000000); s.connect(sys.argv[1])
n = 0
while s.poll(25000):
    s.recv_multipart(); n += 1
print(n)' "tcp://127.0.0.1:$PORT" > "$BENCH_DIR/received" &
  local sub=$!
  sleep 1
  /usr/bin/time -f '%U %S %e' -o "$BENCH_DIR/time" "${APP[@]}" monitor -c "$cfg" --stats 2> "$BENCH_DIR/publish.stderr" > /dev/null
  wait $sub
  read -r user sys wall < <(tail -1 "$BENCH_DIR/time")
  echo "$name $(echo "$user + $sys" | bc) $wall $(cat "$BENCH_DIR/received") $(grep -o '[0-9]* results sent, [0-9]* dropped' "$BENCH_DIR/publish.stderr" | head -1 | tr -d ',')"
}

echo "| windows | CPU s (user+sys) | wall s | results received | sent / dropped |"
echo "|---|---:|---:|---:|---|"
declare -A cpu
for rep in $(seq 1 "$REPS"); do
  for w in 1h 100ms; do
    read -r name c wall got sent _ _ dropped _ < <(run "$w" "$BENCH_DIR/publish-$w.json")
    echo "| $name | $c | $wall | $got | $sent / $dropped |"
    cpu[$w]="${cpu[$w]:-} $c"
  done
done
/usr/bin/python3 - "${cpu[1h]}" "${cpu[100ms]}" <<'PY'
import statistics, sys
one, hundred = [list(map(float, a.split())) for a in sys.argv[1:]]
d = statistics.median(hundred) - statistics.median(one)
print(f"\nPublishing at 100 ms windows costs {d:.2f} CPU s over the 20 s replay: {100 * d / 20:.1f} % of one core (medians).")
PY
