#!/usr/bin/env bash
# Publish modes side by side, in one run: size, start-up and throughput of the same `ratadns` published as
#   fd        framework-dependent (the `dotnet build` output: needs the .NET + ASP.NET Core runtimes installed)
#   sf        self-contained single file, uncompressed
#   sf-z      the same, compressed (EnableCompressionInSingleFile)
#   sf-r2r    self-contained single file + ReadyToRun                    (the chosen mode: scripts/publish.sh)
#   aot       Native AOT (PublishAot), when it publishes; its build log keeps every trim/AOT warning
# Start-up: `ratadns --help` and `ratadns monitor -c samples/monitor.json` (the bundled sample), median wall time of
# RUNS runs. Throughput: a 2,000,000-packet capture from `ratadns gen`, through `monitor` (default reducers, 1 s
# windows, results to a file) and `serialize --ndjson > /dev/null`, median of TPUT_RUNS runs. Ratios are to fd.
#
# Usage: bench/startup.sh [RUNS] [TPUT_RUNS]   (default 10 and 3)
# Env:   BENCH_DIR=/tmp/ratadns-startup, MODES="fd sf ...", KEEP=1 (measure the programs already published there)
# Needs: dotnet, python3, GNU time (peak RSS).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-10}
TPUT_RUNS=${2:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/ratadns-startup}
MODES=${MODES:-fd sf sf-z sf-r2r aot}
PACKETS=2000000
mkdir -p "$BENCH_DIR"
cd "$ROOT"

publish() { # publish MODE: the program's path on stdout, or nothing when the mode does not publish
  local mode=$1 out=$BENCH_DIR/$mode
  if [[ ${KEEP:-0} == 1 && -x $out/ratadns ]]; then echo "$out/ratadns"; return; fi
  local -a props
  case $mode in
    fd)     props=(--self-contained false -p:PublishSingleFile=false -p:PublishReadyToRun=false) ;;
    sf)     props=(--self-contained true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=false -p:PublishReadyToRun=false) ;;
    sf-z)   props=(--self-contained true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:PublishReadyToRun=false) ;;
    sf-r2r) props=(--self-contained true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=false -p:PublishReadyToRun=true) ;;
    # AOT warnings are kept as warnings (TreatWarningsAsErrors=false), one per call site in packages too (TrimmerSingleWarn).
    aot)    props=(-p:PublishAot=true -p:PublishSingleFile=false -p:PublishReadyToRun=false -p:TreatWarningsAsErrors=false -p:TrimmerSingleWarn=false) ;;
    *) echo "unknown mode $mode" >&2; return 1 ;;
  esac
  rm -rf "$out"
  if dotnet publish src/RataDns -c Release -r linux-x64 -nologo -v minimal "${props[@]}" -o "$out" > "$BENCH_DIR/$mode.log" 2>&1 \
     && [[ -x $out/ratadns ]]; then
    echo "$out/ratadns"
  else
    echo "$mode: publish failed, see $BENCH_DIR/$mode.log" >&2
  fi
}

size_of() { # the bytes that must be deployed: the whole output directory less symbols and XML docs
  find "$(dirname "$1")" -type f ! -name '*.pdb' ! -name '*.xml' -printf '%s\n' | awk '{s+=$1} END {print s}'
}

median() { # median of the numbers on stdin
  sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

wall() { # wall MODE_BINARY OUTPUT -- ARGS...: seconds for one run, output to OUTPUT
  local bin=$1 output=$2; shift 3
  local start=$EPOCHREALTIME
  "$bin" "$@" > "$output" 2> "$BENCH_DIR/last.err" || { echo "failed: $bin $*" >&2; cat "$BENCH_DIR/last.err" >&2; return 1; }
  local end=$EPOCHREALTIME
  python3 -c "print(f'{$end - $start:.4f}')"
}

declare -A BIN
for mode in $MODES; do
  BIN[$mode]=$(publish "$mode")
done

CAPTURE=$BENCH_DIR/gen-$PACKETS.pcap
[[ -s $CAPTURE ]] || "${BIN[fd]:-${BIN[sf]}}" gen "$CAPTURE" -n $PACKETS > /dev/null
RESULTS=$BENCH_DIR/monitor-results.ndjson
cat > "$BENCH_DIR/throughput.json" <<JSON
{"ServerId": "bench", "InputMethod": "capture_file", "InputSource": "$CAPTURE", "WindowMilliseconds": 1000,
 "Output": {"OutputMethod": "file", "OutputFile": "$RESULTS"}}
JSON

# The runs are interleaved (every mode once, then again) so that the load of a shared machine falls on all modes
# alike; each mode's first run is left out (page cache).
TABLE=$BENCH_DIR/table.tsv
: > "$TABLE"
declare -A HELP SAMPLE MON SER
live=()
for mode in $MODES; do
  [[ -n ${BIN[$mode]:-} ]] && live+=("$mode")
  [[ -n ${BIN[$mode]:-} ]] && wall "${BIN[$mode]}" /dev/null -- --help > /dev/null
done
echo "start-up, $RUNS rounds" >&2
for _ in $(seq "$RUNS"); do
  for mode in "${live[@]}"; do
    HELP[$mode]+="$(wall "${BIN[$mode]}" /dev/null -- --help) "
    SAMPLE[$mode]+="$(wall "${BIN[$mode]}" "$BENCH_DIR/$mode-sample.out" -- monitor -c samples/monitor.json) "
  done
done
echo "throughput, $TPUT_RUNS rounds" >&2
for _ in $(seq "$TPUT_RUNS"); do
  for mode in "${live[@]}"; do
    rm -f "$RESULTS"
    MON[$mode]+="$(wall "${BIN[$mode]}" /dev/null -- monitor -c "$BENCH_DIR/throughput.json") "
    SER[$mode]+="$(wall "${BIN[$mode]}" /dev/null -- serialize --ndjson "$CAPTURE") "
  done
done
for mode in $MODES; do
  bin=${BIN[$mode]:-}
  if [[ -z $bin ]]; then
    printf '%s\t-\t-\t-\t-\t-\t-\t-\n' "$mode" >> "$TABLE"
    continue
  fi
  rss=$( { /usr/bin/time -f %M "$bin" monitor -c samples/monitor.json > /dev/null; } 2>&1 | tail -1)
  lines=$(grep -c . "$BENCH_DIR/$mode-sample.out" || true)
  m() { tr ' ' '\n' <<<"$1" | grep . | median; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$(size_of "$bin")" "$(m "${HELP[$mode]}")" "$(m "${SAMPLE[$mode]}")" \
    "$rss" "$(m "${MON[$mode]}")" "$(m "${SER[$mode]}")" "$lines" >> "$TABLE"
done

python3 - "$TABLE" "$PACKETS" "$RUNS" "$TPUT_RUNS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
packets, runs, tput = int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = next((r for r in rows if r[0] == "fd" and r[1] != "-"), None)
def cell(r, i, fmt, ratio=True):
    if r[i] == "-": return "failed"
    v = float(r[i]); s = fmt(v)
    if ratio and base is not None and r is not base: s += f" ({v / float(base[i]):.2f}x)"
    return s
print(f"\nmedian of {runs} runs (start-up) and {tput} runs (throughput, {packets:,} packets); ratios to fd\n")
print("| mode | size | `--help` | `monitor` sample | peak RSS sample | `monitor` 2M | `serialize --ndjson` 2M | sample result lines |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r[1] == "-":
        print(f"| {r[0]} | publish failed | | | | | | |"); continue
    print(f"| {r[0]} | {cell(r, 1, lambda v: f'{v / 1e6:.1f} MB')} | {cell(r, 2, lambda v: f'{v * 1000:.0f} ms')} "
          f"| {cell(r, 3, lambda v: f'{v * 1000:.0f} ms')} | {cell(r, 4, lambda v: f'{v / 1024:.0f} MB')} "
          f"| {cell(r, 5, lambda v: f'{v:.2f} s ({packets / v / 1e6:.2f} Mpkt/s)')} "
          f"| {cell(r, 6, lambda v: f'{v:.2f} s ({packets / v / 1e6:.2f} Mpkt/s)')} | {r[7]} |")
PY
