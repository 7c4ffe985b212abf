#!/usr/bin/env bash
# Captures real DNS traffic for the live conformance test: a knot authoritative server on 127.0.0.1 and ::1 (free
# port), dnsperf over UDP (v4 and v6, with and without EDNS/DO) and TCP, tcpdump on lo. Writes OUT/live.pcap and
# OUT/port. Every process it starts is stopped by pid before it returns.
set -euo pipefail
out=${1:?usage: live-capture.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
seconds=${RATADNS_LIVE_SECONDS:-3}
rate=${RATADNS_LIVE_QPS:-300}

pick_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
  return 1
}
port=$(pick_port)
echo "$port" > "$out/port"

cat > "$out/example.test.zone" <<ZONE
\$ORIGIN example.test.
\$TTL 300
@       SOA ns1 hostmaster 2026112901 3600 600 86400 300
@       NS  ns1
@       NS  ns2
ns1     A   127.0.0.1
ns2     AAAA ::1
www     A   192.0.2.10
www     AAAA 2001:db8::10
alias   CNAME www
mail    A   192.0.2.25
@       MX  10 mail
_dmarc  TXT "v=DMARC1; p=none"
_sip._udp SRV 10 60 5060 sip
sip     A   192.0.2.60
bad_name A  192.0.2.66
_under_score NS ns1
big     TXT "$(printf 'a%.0s' $(seq 250))" "$(printf 'b%.0s' $(seq 250))" "$(printf 'c%.0s' $(seq 250))" "$(printf 'd%.0s' $(seq 250))" "$(printf 'e%.0s' $(seq 250))"
ZONE
for i in $(seq 1 60); do echo "many A 198.51.100.$i" >> "$out/example.test.zone"; done

cat > "$out/knot.conf" <<CONF
server:
    rundir: "$out"
    listen: [ 127.0.0.1@$port, ::1@$port ]
log:
  - target: stderr
    any: warning
database:
    storage: "$out/db"
template:
  - id: default
    storage: "$out"
    file: "%s.zone"
zone:
  - domain: example.test
CONF

cat > "$out/queries.txt" <<Q
www.example.test A
www.example.test AAAA
alias.example.test A
example.test MX
example.test NS
example.test SOA
_dmarc.example.test TXT
_sip._udp.example.test SRV
bad_name.example.test A
_under_score.example.test NS
x_y.example.test SOA
big.example.test TXT
many.example.test A
nothere.example.test A
deep.nothere.example.test AAAA
www.other.zone A
Q

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

/usr/sbin/knotd -c "$out/knot.conf" > "$out/knot.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do kdig @127.0.0.1 -p "$port" +short +timeout=1 +retry=0 www.example.test A > /dev/null 2>&1 && break; sleep 0.2; done
kdig @127.0.0.1 -p "$port" +short www.example.test A | grep -q 192.0.2.10 || { echo "knot did not answer"; cat "$out/knot.log"; exit 1; }

tcpdump -i lo -U -n -s 0 -w "$out/live.pcap" "port $port" > "$out/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
sleep 1

dnsperf -s 127.0.0.1 -p "$port" -d "$out/queries.txt" -l "$seconds" -Q "$rate" > "$out/dnsperf-udp4.txt" 2>&1
dnsperf -s ::1 -p "$port" -d "$out/queries.txt" -l "$seconds" -Q "$rate" -D > "$out/dnsperf-udp6.txt" 2>&1
dnsperf -s 127.0.0.1 -p "$port" -m tcp -d "$out/queries.txt" -l "$seconds" -Q "$rate" > "$out/dnsperf-tcp4.txt" 2>&1

sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
grep -h "Queries sent\|Queries completed" "$out"/dnsperf-*.txt
grep -h "captured\|dropped" "$out/tcpdump.log" || true
