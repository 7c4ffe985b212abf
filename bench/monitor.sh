#!/usr/bin/env bash
# End to end, with the shipped build (scripts/publish.sh: self-contained single file, ReadyToRun): `ratadns monitor`
# (dnsjit's work, the default reducer set, every built-in reducer, the default set with 2 workers) and
# `ratadns serialize --ndjson` on a synthetic capture held in the page cache, next to
#   - `tcpdump -r FILE -w - > /dev/null`  (reads and rewrites every packet: the practical read limit), and
#   - dnsjit running bench/dnsjit-topn.lua (header + question parse, queries/s and top-10 names),
# in one session with interleaved repetitions: wall time AND CPU seconds (user + sys) of each, medians, ratios to
# dnsjit. Then the start-up of `monitor` on an empty capture, and the peak RSS of the monitor during a
# random-subdomain flood (every query a new name).
#
# Usage: bench/monitor.sh [PACKETS] [REPS]         (defaults 10000000 and 3)
# Env:   BENCH_DIR=/tmp/ratadns-bench   where captures, configs, the published program and outputs go (captures
#                                       are reused while present)
#        SEED=42                        seed of both synthetic captures
#        RATADNS=PATH                   time this program instead of publishing the work tree's
#        BEFORE=PATH                    also time this (older) program's default and all-reducer runs, interleaved
#                                       with the others, as rows "before: ..." (before/after figures of a change)
# Prints markdown tables. Needs: dotnet, tcpdump, dnsjit (apt-get install -y dnsjit), GNU time, python3, fincore
# (util-linux).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKETS=${1:-10000000}
REPS=${2:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/ratadns-bench}
SEED=${SEED:-42}
MEMORY_GOAL_MB=300

die() { echo "monitor.sh: $*" >&2; exit 1; }

[[ $PACKETS =~ ^[0-9]+$ && $PACKETS -ge 2 ]] || die "PACKETS must be a number of at least 2 (got '$PACKETS')"
[[ $REPS =~ ^[0-9]+$ && $REPS -ge 1 ]] || die "REPS must be a number of at least 1 (got '$REPS')"
for tool in dotnet tcpdump dnsjit python3 fincore; do
  command -v "$tool" > /dev/null || die "$tool not found${tool/dnsjit/ (apt-get install -y dnsjit)}"
done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) not found (apt-get install -y time)"
mkdir -p "$BENCH_DIR"
case "$(cd "$BENCH_DIR" && pwd)/" in
  "$ROOT"/*) die "BENCH_DIR ($BENCH_DIR) is inside the repository; captures are large, put them elsewhere" ;;
esac

echo "## Environment"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "- dotnet: $(dotnet --version)"
echo "- tcpdump: $(tcpdump --version 2>&1 | head -1), $(tcpdump --version 2>&1 | grep -i libpcap | head -1)"
echo "- dnsjit: $(dpkg-query -W -f '${Version}' dnsjit 2>/dev/null || echo 'version unknown (not from a Debian package)')"
echo "- ratadns: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo

if [[ -n ${RATADNS:-} ]]; then
  [[ -x $RATADNS ]] || die "RATADNS=$RATADNS is not an executable"
  APP=("$RATADNS")
else
  "$ROOT/scripts/publish.sh" "$BENCH_DIR/publish" > "$BENCH_DIR/build.log" 2>&1 \
    || die "publish failed, see $BENCH_DIR/build.log"
  APP=("$BENCH_DIR/publish/ratadns")
fi
echo "- program: ${APP[0]} ($(stat -c %s "${APP[0]}") bytes, the shipped build)"

# Captures: written once to a temporary name, then renamed, so an interrupted run never leaves a short file to reuse.
capture() { # capture FILE [gen options...]
  local file=$1; shift
  if [[ ! -s $file ]]; then
    echo "generating $file ..." >&2
    "${APP[@]}" gen "$file.partial" -n "$PACKETS" --seed "$SEED" "$@" >&2
    mv "$file.partial" "$file"
  fi
}
REALISTIC="$BENCH_DIR/realistic-$PACKETS-seed$SEED.pcap"
FLOOD="$BENCH_DIR/flood-$PACKETS-seed$SEED.pcap"
TINY="$BENCH_DIR/realistic-2-seed$SEED.pcap"   # start-up allocations, subtracted from the per-packet figure
capture "$REALISTIC"
if "${APP[@]}" gen --help | grep -q -- '--unique-names'; then
  capture "$FLOOD" --unique-names
else
  FLOOD=""
fi
( PACKETS=2; capture "$TINY" )

count_packets() {
  local n
  n=$(capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') || true
  echo "${n:-$PACKETS}"
}
COUNT=$(count_packets "$REALISTIC")

# The reducer set: every name the monitor knows. ratadns lists them in its error for an unknown reducer, so the
# config follows the reducers other engineers add; bench/monitor-all.json is the fallback (and an example).
CONFIG="$BENCH_DIR/monitor-all.json"
MONITOR_OUT="$BENCH_DIR/monitor-out.ndjson"
echo '{"ServerId":"bench","InputMethod":"capture_file","InputSource":"/dev/null","Reducers":[{"Name":"?list-known-reducers?","OutputMethod":"file","OutputFile":"/dev/null"}]}' > "$BENCH_DIR/probe.json"
KNOWN=$("${APP[@]}" monitor -c "$BENCH_DIR/probe.json" 2>&1 | sed -n 's/.*known reducers: \(.*\)\.$/\1/p') || true
python3 - "$KNOWN" "$ROOT/bench/monitor-all.json" "$MONITOR_OUT" "$CONFIG" <<'PY'
import json, sys
known, fallback, output, config = sys.argv[1:]
names = [n.strip() for n in known.split(",") if n.strip()]
if names:
    source = "ratadns (its list of known reducers)"
else:
    names = [r["Name"] for r in json.load(open(fallback))["Reducers"]]
    source = f"{fallback} (ratadns did not list its reducers)"
json.dump({
    "ServerId": "bench",
    "InputMethod": "capture_file",
    "InputSource": "set by --input-source",
    "Reducers": [{"Name": n, "OutputMethod": "file", "OutputFile": output} for n in names],
}, open(config, "w"), indent=2)
print(f"- reducers ({len(names)}, from {source}): {', '.join(names)}")
PY

# The default set (no reducer list in the configuration: results to standard output) and the work dnsjit's script
# does (queries per second and the top 10 names), for a like-for-like comparison.
CONFIG_DEFAULT="$BENCH_DIR/monitor-default.json"
CONFIG_DNSJIT="$BENCH_DIR/monitor-qps-topn.json"
echo '{"ServerId":"bench","InputMethod":"capture_file","InputSource":"set by --input-source"}' > "$CONFIG_DEFAULT"
python3 - "$MONITOR_OUT" "$CONFIG_DNSJIT" <<'PY'
import json, sys
output, config = sys.argv[1:]
json.dump({"ServerId": "bench", "InputMethod": "capture_file", "InputSource": "set by --input-source",
           "Reducers": [{"Name": "QueriesPerSecond", "OutputMethod": "file", "OutputFile": output},
                        {"Name": "TopNQ", "N": 10, "OutputMethod": "file", "OutputFile": output}]}, open(config, "w"))
PY

WORKERS=0
if "${APP[@]}" monitor --help | grep -q -- '--workers'; then
  WORKERS=1
  echo "- workers: ratadns monitor has --workers; timing 1 and 2 workers"
else
  echo "- workers: not available yet (ratadns monitor --help lists no --workers)"
fi
FILE_READER=0
if "${APP[@]}" monitor --help | grep -q -- '--file-reader'; then
  FILE_READER=1
  echo "- file reader: ratadns monitor has --file-reader; timing the capture thread and the worker reading the file for qps + TopNQ and the default set (auto picks the worker for the first, the capture thread for the second)"
fi
echo "- capture: $REALISTIC ($COUNT packets, $(stat -c %s "$REALISTIC") bytes); $REPS interleaved repetitions"
echo

RESULTS="$BENCH_DIR/results.tsv"
: > "$RESULTS"
ERR="$BENCH_DIR/last.stderr"
OUT="$BENCH_DIR/last.stdout"

# run NAME REP -- COMMAND...: wall time (ns clock), CPU seconds (user + sys) and peak RSS (GNU time), allocated bytes
# when the app reports them. Standard output goes to $OUT, or to /dev/null when STDOUT=/dev/null is set for the call
# (tcpdump's pcap copy and serialize's JSON are gigabytes: writing them to a file would time the disk).
run() {
  local name=$1 rep=$2; shift 3
  local start end rss cpu alloc
  : > "$MONITOR_OUT"
  start=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$BENCH_DIR/rss" "$@" > "${STDOUT:-$OUT}" 2> "$ERR" \
    || die "'$name' failed (exit $?); its stderr: $(tail -3 "$ERR")"
  end=$(date +%s%N)
  read -r rss user sys < <(tail -1 "$BENCH_DIR/rss")
  cpu=$(python3 -c "print($user + $sys)")
  alloc=$(sed -n 's/^allocated bytes: //p' "$ERR")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$(( end - start ))" "$rss" "${alloc:--}" "$cpu" >> "$RESULTS"
}

# check_dnsjit / check_monitor: did the run see every packet?
check_dnsjit() {
  local seen
  seen=$(sed -n 's/^totals: packets \([0-9]*\),.*/\1/p' "$OUT")
  [[ $seen == "$1" ]] || echo "WARNING: dnsjit saw ${seen:-?} packets of $1: $(tail -1 "$OUT")" >&2
}
check_monitor() { # check_monitor COUNT [OUTPUT FILE]
  python3 - "${2:-$MONITOR_OUT}" "$1" <<'PY' >&2
import json, sys
from collections import Counter
windows = Counter()
for line in open(sys.argv[1]):
    record = json.loads(line)
    windows[record["type"]] += record["window"]["packets"]
expected = int(sys.argv[2])
short = {t: n for t, n in windows.items() if n != expected}
if not windows or short:
    print(f"WARNING: monitor windows hold {short or 'nothing'} messages, expected {expected} for every reducer")
PY
}

MONITOR=(env DOTNET_gcServer=0 RATADNS_REPORT_ALLOCATIONS=1 "${APP[@]}" monitor -c "$CONFIG")
MONITOR_DEFAULT=(env DOTNET_gcServer=0 RATADNS_REPORT_ALLOCATIONS=1 "${APP[@]}" monitor -c "$CONFIG_DEFAULT")
MONITOR_DNSJIT=(env DOTNET_gcServer=0 RATADNS_REPORT_ALLOCATIONS=1 "${APP[@]}" monitor -c "$CONFIG_DNSJIT")
if [[ -n ${BEFORE:-} ]]; then
  [[ -x $BEFORE ]] || die "BEFORE=$BEFORE is not an executable"
  echo "- before: $BEFORE ($(stat -c %s "$BEFORE") bytes), timed in the same repetitions"
fi

# Start-up allocations (config, reducer tables, JIT, one window) of each reducer set, to subtract from its
# per-packet figure.
run "baseline: all" 0 -- "${MONITOR[@]}" --input-source "$TINY"
run "baseline: default" 0 -- "${MONITOR_DEFAULT[@]}" --input-source "$TINY"
run "baseline: qps" 0 -- "${MONITOR_DNSJIT[@]}" --input-source "$TINY"
BASELINES=$(awk -F'\t' '$1 ~ /^baseline: / {sub(/^baseline: /, "", $1); printf "%s=%s,", $1, $5}' "$RESULTS")
: > "$RESULTS"

tcpdump -r "$REALISTIC" -w - 2> /dev/null > /dev/null   # warm the page cache
cached() { fincore -b -n -o RES,SIZE "$1" | awk '{printf "%.1f%% of %s bytes", ($2 ? 100 * $1 / $2 : 0), $2}'; }
echo "- page cache before the runs: $(cached "$REALISTIC") resident (fincore)"
for rep in $(seq 1 "$REPS"); do
  echo "repetition $rep/$REPS ..." >&2
  STDOUT=/dev/null run "tcpdump -r FILE -w - > /dev/null" "$rep" -- tcpdump -r "$REALISTIC" -w -
  run "dnsjit dnsjit-topn.lua FILE" "$rep" -- dnsjit "$ROOT/bench/dnsjit-topn.lua" "$REALISTIC"
  check_dnsjit "$COUNT"
  run "ratadns monitor, qps + TopNQ (dnsjit's work)" "$rep" -- "${MONITOR_DNSJIT[@]}" --input-source "$REALISTIC"
  check_monitor "$COUNT"
  if [[ $FILE_READER == 1 ]]; then
    run "ratadns monitor, qps + TopNQ, --file-reader capture-thread" "$rep" -- "${MONITOR_DNSJIT[@]}" --input-source "$REALISTIC" --file-reader capture-thread
    check_monitor "$COUNT"
  fi
  run "ratadns monitor, default set" "$rep" -- "${MONITOR_DEFAULT[@]}" --input-source "$REALISTIC"
  check_monitor "$COUNT" "$OUT"
  if [[ $FILE_READER == 1 ]]; then
    run "ratadns monitor, default set, --file-reader worker" "$rep" -- "${MONITOR_DEFAULT[@]}" --input-source "$REALISTIC" --file-reader worker
    check_monitor "$COUNT" "$OUT"
  fi
  run "ratadns monitor (all reducers)" "$rep" -- "${MONITOR[@]}" --input-source "$REALISTIC"
  check_monitor "$COUNT"
  # The tiered compiler's thread (PGO instrumentation, then tier 1) is a CPU cost of its own on 2 cores.
  run "ratadns monitor, default set, DOTNET_TieredPGO=0" "$rep" -- env DOTNET_TieredPGO=0 "${MONITOR_DEFAULT[@]}" --input-source "$REALISTIC"
  check_monitor "$COUNT" "$OUT"
  if [[ -n ${BEFORE:-} ]]; then
    run "before: ratadns monitor, default set" "$rep" -- env DOTNET_gcServer=0 RATADNS_REPORT_ALLOCATIONS=1 "$BEFORE" monitor -c "$CONFIG_DEFAULT" --input-source "$REALISTIC"
    check_monitor "$COUNT" "$OUT"
    run "before: ratadns monitor (all reducers)" "$rep" -- env DOTNET_gcServer=0 RATADNS_REPORT_ALLOCATIONS=1 "$BEFORE" monitor -c "$CONFIG" --input-source "$REALISTIC"
    check_monitor "$COUNT"
  fi
  if [[ $WORKERS == 1 ]]; then
    run "ratadns monitor, default set, --workers 2" "$rep" -- "${MONITOR_DEFAULT[@]}" --input-source "$REALISTIC" --workers 2
    check_monitor "$COUNT" "$OUT"
  fi
  STDOUT=/dev/null run "ratadns serialize --ndjson > /dev/null" "$rep" -- "${APP[@]}" serialize --ndjson "$REALISTIC"
done
echo "- page cache after the runs: $(cached "$REALISTIC") resident (fincore)"

# Start-up: `monitor` (default set) on a capture with no packet, the median of 11 runs.
EMPTY="$BENCH_DIR/empty.pcap"
python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))" "$EMPTY"
STARTUP=$(for i in $(seq 1 11); do
  s=$(date +%s%N); "${APP[@]}" monitor -c "$CONFIG_DEFAULT" --input-source "$EMPTY" > /dev/null 2>&1; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
done | sort -n | sed -n 6p)

# Memory under a random-subdomain flood: every query a new name; the name tables must stay bounded.
if [[ -n $FLOOD ]]; then
  echo "flood run ..." >&2
  FLOOD_COUNT=$(count_packets "$FLOOD")
  run "flood: ratadns monitor, default set" 1 -- "${MONITOR_DEFAULT[@]}" --input-source "$FLOOD"
  check_monitor "$FLOOD_COUNT" "$OUT"
  run "flood: ratadns monitor (all reducers)" 1 -- "${MONITOR[@]}" --input-source "$FLOOD"
  check_monitor "$FLOOD_COUNT"
  if [[ $WORKERS == 1 ]]; then
    run "flood: ratadns monitor, default set, --workers 2" 1 -- "${MONITOR_DEFAULT[@]}" --input-source "$FLOOD" --workers 2
    check_monitor "$FLOOD_COUNT" "$OUT"
  fi
else
  FLOOD_COUNT=0
  echo "flood: ratadns gen has no --unique-names; memory under a flood not measured" >&2
fi

python3 - "$RESULTS" "$COUNT" "$FLOOD_COUNT" "$BASELINES" "$MEMORY_GOAL_MB" "$STARTUP" <<'PY'
import statistics, sys
from collections import defaultdict
path, count, flood_count, baseline, goal, startup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
runs = defaultdict(list)
cpus = defaultdict(list)
for line in open(path):
    name, rep, ns, rss, alloc, cpu = line.rstrip("\n").split("\t")
    runs[name].append((int(ns) / 1e9, int(rss) / 1024, None if alloc == "-" else int(alloc)))
    cpus[name].append(float(cpu))

baselines = dict(b.split("=") for b in baseline.split(",") if "=" in b)

def per_packet(alloc, packets, name=""):
    key = "default" if "default set" in name else "qps" if "qps" in name else "all"
    base = baselines.get(key, "-")
    if alloc is None or base in ("-", "") or packets == 0:
        return "n/a"
    return f"{(alloc - int(base)) / packets:,.1f}"

timed = {n: r for n, r in runs.items() if not n.startswith("flood:")}
median = {n: statistics.median(t for t, _, _ in r) for n, r in timed.items()}
cpu = {n: statistics.median(cpus[n]) for n in timed}
base = median.get("tcpdump -r FILE -w - > /dev/null")
dnsjit = median.get("dnsjit dnsjit-topn.lua FILE")
dnsjit_cpu = cpu.get("dnsjit dnsjit-topn.lua FILE")
print(f"## Throughput ({count:,} packets in the page cache, median of {len(next(iter(timed.values())))} interleaved runs)")
print()
print("| command | wall s (min-max) | CPU s | packets/s | speed vs dnsjit | CPU/packet vs dnsjit | wall vs tcpdump | peak RSS MB | allocated B/packet |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, r in timed.items():
    times = [t for t, _, _ in r]
    m = median[name]
    allocs = [a for _, _, a in r if a is not None]
    alloc = per_packet(statistics.median(allocs) if allocs else None, count, name)
    if not name.startswith("ratadns") or "serialize" in name:
        alloc = "-"
    print(f"| `{name}` | {m:.2f} ({min(times):.2f}-{max(times):.2f}) | {cpu[name]:.2f} | {count / m:,.0f} | {dnsjit / m:.2f}x | {cpu[name] / dnsjit_cpu:.2f}x | {m / base:.2f}x | {max(x for _, x, _ in r):,.0f} | {alloc} |")

print()
print(f"Start-up: `ratadns monitor` (default set) on a capture with no packet: {startup} ms (median of 11).")

flood = {n: r for n, r in runs.items() if n.startswith("flood:")}
if flood:
    print()
    print(f"## Memory under a random-subdomain flood ({flood_count:,} packets, {flood_count // 2:,} unique query names)")
    print()
    print(f"| command | s | packets/s | peak RSS MB | goal < {goal} MB | allocated B/packet |")
    print("|---|---:|---:|---:|---|---:|")
    for name, r in flood.items():
        t, rss, alloc = r[0]
        print(f"| `{name[len('flood: '):]}` | {t:.3f} | {flood_count / t:,.0f} | {rss:,.0f} | {'met' if rss < goal else 'NOT met'} | {per_packet(alloc, flood_count, name)} |")
print()
print(f"Allocated bytes per packet: GC.GetTotalAllocatedBytes at exit (RATADNS_REPORT_ALLOCATIONS=1, DOTNET_gcServer=0) minus a 2-packet run's start-up bytes with the same reducers ({baseline}), divided by the packets.")
PY
echo
echo "raw runs: $RESULTS (name, repetition, wall ns, peak RSS kB, allocated bytes, CPU s)"
