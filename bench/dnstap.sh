#!/usr/bin/env bash
# dnstap ingestion (issue 17): how fast RataDns reads dnstap from a Frame Streams file and from a unix socket, next
# to the reference tools on the same stream: fstrm_capture writing it to a file (the socket read limit) and
# dnstap-ldns decoding it (-q, one line per message).
#
# Usage: sudo bench/dnstap.sh          (env: MESSAGES=2000000 RUNS=5 APP=artifacts/publish/ratadns)
# The input is real: Unbound (on 127.0.0.1, local data only) logs client queries and responses while dnsperf sends
# a mix over UDP and TCP; fstrm_capture writes them to a file, whose data frames are then repeated to MESSAGES.
# Every round runs each contender once, in turn (interleaved); the table gives medians of wall and CPU seconds
# (user + system of the receiving process) and messages per second. The file is read once before, so it is in the
# page cache (vmtouch-like check: a second read at memory speed is printed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MESSAGES=${MESSAGES:-2000000}
RUNS=${RUNS:-5}
APP=${APP:-$ROOT/artifacts/publish/ratadns}
WORK=${WORK:-/tmp/ratadns-bench-dnstap}
mkdir -p "$WORK"
FILE="$WORK/dnstap-$MESSAGES.fstrm"
[[ -x "$APP" ]] || { echo "no published build at $APP: run scripts/publish.sh" >&2; exit 2; }
for tool in unbound fstrm_capture fstrm_replay dnstap-ldns dnsperf; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: scripts/setup.sh installs it" >&2; exit 2; }
done

if [[ ! -s "$FILE" ]]; then
  port=15399
  sock="$WORK/capture.sock"
  rm -f "$sock"
  cat > "$WORK/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$port
  port: $port
  do-daemonize: no
  chroot: ""
  username: ""
  pidfile: ""
  directory: "$WORK"
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-ip6: no
  local-zone: "test." static
  local-data: "a.test. 300 IN A 192.0.2.10"
  local-data: "b.test. 300 IN AAAA 2001:db8::10"
  local-data: "c.test. 300 IN MX 10 a.test."
remote-control:
  control-enable: no
dnstap:
  dnstap-enable: yes
  dnstap-socket-path: "$sock"
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
CONF
  printf 'a.test A\nb.test AAAA\nc.test MX\nnx.test A\n' > "$WORK/queries.txt"
  fstrm_capture -t protobuf:dnstap.Dnstap -u "$sock" -w "$WORK/unbound.fstrm" & cap=$!
  sleep 1
  unbound -c "$WORK/unbound.conf" & ub=$!
  sleep 2
  dnsperf -s 127.0.0.1 -p $port -d "$WORK/queries.txt" -l 5 -Q 20000 > /dev/null
  dnsperf -s 127.0.0.1 -p $port -m tcp -d "$WORK/queries.txt" -l 3 -Q 5000 > /dev/null
  sleep 2
  kill -TERM $ub; wait $ub || true
  kill -TERM $cap; wait $cap || true
  # Repeat the data frames to MESSAGES (START and STOP once).
  python3 - "$WORK/unbound.fstrm" "$FILE" "$MESSAGES" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
pos, frames, start = 0, [], None
while pos + 4 <= len(data):
    (n,) = struct.unpack_from('>I', data, pos)
    if n == 0:
        (m,) = struct.unpack_from('>I', data, pos + 4)
        control = data[pos:pos + 8 + m]
        if start is None:
            start = control
        pos += 8 + m
        continue
    frames.append(data[pos:pos + 4 + n])
    pos += 4 + n
want = int(sys.argv[3])
with open(sys.argv[2], 'wb') as out:
    out.write(start)
    for i in range(want):
        out.write(frames[i % len(frames)])
    out.write(struct.pack('>II', 0, 4) + struct.pack('>I', 3))
print(f"{len(frames)} messages from unbound, repeated to {want}")
PY
fi

echo "input: $FILE ($(stat -c %s "$FILE") bytes, $MESSAGES messages)"
cat "$FILE" > /dev/null
s=$(date +%s.%N); cat "$FILE" > /dev/null; e=$(date +%s.%N)
echo "page cache: a second read takes $(echo "$e - $s" | bc) s"

# Runs "$@" and prints "wall cpu" (seconds; CPU = user + system).
timed() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" > /dev/null 2> "$WORK/stderr" || { cat "$WORK/stderr" >&2; return 1; }
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$WORK/time"
}

# A socket receiver: started, fed by fstrm_replay (bidirectional: it ends once the receiver has read all and
# answered FINISH), then stopped. Wall = fstrm_replay's run; CPU = the receiver's, from /proc, start-up included.
socket_run() {
  local sock="$WORK/bench.sock"
  rm -f "$sock"
  "$@" > /dev/null 2> "$WORK/receiver.err" & local pid=$!
  for _ in $(seq 100); do [[ -S "$sock" ]] && break; sleep 0.05; done
  local s e
  s=$(date +%s.%N)
  fstrm_replay -t protobuf:dnstap.Dnstap -r "$FILE" -u "$sock"
  e=$(date +%s.%N)
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -TERM $pid; wait $pid 2> /dev/null || true
  echo "$(echo "$e - $s" | bc) $(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc)"
}

names=(
  "file: dnstap-ldns -r -q (decode, print)"
  "file: ratadns inspect -r (decode, parse, count)"
  "file: ratadns monitor -r (default reducers)"
  "socket: fstrm_capture -w (read limit)"
  "socket: ratadns inspect --dnstap"
  "socket: ratadns monitor --dnstap"
)
run() {
  case $1 in
    0) timed dnstap-ldns -r "$FILE" -q ;;
    1) timed "$APP" inspect -r "$FILE" -q ;;
    2) timed "$APP" monitor -r "$FILE" -q ;;
    3) socket_run fstrm_capture -t protobuf:dnstap.Dnstap -u "$WORK/bench.sock" -w "$WORK/copy.fstrm" ;;
    4) socket_run "$APP" inspect --dnstap "unix:$WORK/bench.sock" -q ;;
    5) socket_run "$APP" monitor --dnstap "unix:$WORK/bench.sock" -q ;;
  esac
}

declare -A walls cpus
for round in $(seq "$RUNS"); do
  for i in "${!names[@]}"; do
    read -r w c < <(run "$i")
    walls[$i]+="$w "
    cpus[$i]+="$c "
  done
  echo "round $round done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\n%-50s %8s %8s %14s\n' "contender ($RUNS rounds, medians)" "wall s" "CPU s" "messages/s"
for i in "${!names[@]}"; do
  w=$(echo "${walls[$i]}" | median); c=$(echo "${cpus[$i]}" | median)
  printf '%-50s %8.2f %8.2f %14.0f\n' "${names[$i]}" "$w" "$c" "$(echo "$MESSAGES / $w" | bc -l)"
done
