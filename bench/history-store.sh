#!/usr/bin/env bash
# How many window results per second the aggregator ingests and writes to its history (issue 15):
#   bench/history-store.sh [CAPTURE] [WINDOWS] [MESSAGES_PER_WINDOW] [SERVERS]
# Makes the capture with `ratadns gen` when absent, starts a throwaway PostgreSQL (Debian's server binaries, a fresh
# cluster in a temporary directory, loopback, a free port, run as the postgres user when run as root), and runs
# `RataDns.Bench --store-costs` with no history, SQLite (a file in /tmp) and PostgreSQL, interleaved over 3 rounds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAPTURE=${1:-/tmp/g1m.pcap}
WINDOWS=${2:-300}
PER_WINDOW=${3:-1000}
SERVERS=${4:-4}
[[ -f $CAPTURE ]] || dotnet run -c Release --project "$ROOT/src/RataDns" -- gen "$CAPTURE" -n 1000000 --rate 100000 --seed 5 -q

BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=$(mktemp -d /tmp/ratadns-bench-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AS=()
if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$DIR"; AS=(runuser -u postgres --); fi
"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync > /dev/null
"${AS[@]}" "$BIN/postgres" -D "$DIR/data" -p "$PORT" -k "$DIR" -c listen_addresses=127.0.0.1 > "$DIR/log" 2>&1 &
PG=$!
trap 'kill $PG 2>/dev/null; wait $PG 2>/dev/null; rm -rf "$DIR" /tmp/ratadns-bench-history.sqlite*' EXIT
for _ in $(seq 600); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break; sleep 0.1; done
psql -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE ratadns" > /dev/null

echo "date: $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$BIN/postgres" --version), sqlite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
dotnet build -c Release "$ROOT/bench/RataDns.Bench" -v quiet -nologo > /dev/null
for round in 1 2 3; do
  echo "round $round"
  dotnet "$ROOT/bench/RataDns.Bench/bin/Release/net10.0/RataDns.Bench.dll" --store-costs "$CAPTURE" "$WINDOWS" "$PER_WINDOW" "$SERVERS" \
    sqlite:/tmp/ratadns-bench-history.sqlite "postgresql://postgres@127.0.0.1:$PORT/ratadns"
  psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d ratadns -c "DROP TABLE IF EXISTS ratadns_window_results" > /dev/null
done
