#!/usr/bin/env bash
# Captures real DNS messages for the parser benchmarks and tests.
#
# Starts Knot DNS (knotd) in the foreground, on 127.0.0.1:$PORT, with its own configuration, keys and storage in a
# temporary directory, serving the zone example.test that Knot signs itself (dnssec-signing: on, automatic keys).
# Queries it with kdig while tcpdump captures the loopback, then writes into this directory:
#   knot-sample.pcap               every packet of the session
#   query-edns.bin                 a query with EDNS (DO bit, NSID and COOKIE options)
#   response-compressed.bin        the SRV response for _sip._udp.example.test: several answers and additional
#                                  records whose names are compressed against each other
#   response-dnssec-large.bin      big.example.test AAAA with +dnssec: a large RRset and its RRSIG, over 1 KB
#
# Needs root (tcpdump on lo), knotd/knotc (knot), kdig (knot-dnsutils), tcpdump, tshark and python3.
# Usage: bench/data/capture-messages.sh [output-dir]     (default: the directory of this script)
set -euo pipefail

PORT=${PORT:-53531}
OUT=$(cd "${1:-$(dirname "$0")}" && pwd)
WORK=$(mktemp -d /tmp/ratadns-knot.XXXXXX)
KNOT_PID=""
TCPDUMP_PID=""

cleanup() {
  if [[ -n "$TCPDUMP_PID" ]] && kill -0 "$TCPDUMP_PID" 2>/dev/null; then
    kill "$TCPDUMP_PID" 2>/dev/null || true
    wait "$TCPDUMP_PID" 2>/dev/null || true
  fi
  if [[ -n "$KNOT_PID" ]] && kill -0 "$KNOT_PID" 2>/dev/null; then
    kill "$KNOT_PID" 2>/dev/null || true
    wait "$KNOT_PID" 2>/dev/null || true
  fi
  if [[ -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

mkdir -p "$WORK/zones" "$WORK/db" "$WORK/keys" "$WORK/run"

# ---- the zone (unsigned; Knot adds DNSKEY, RRSIG and NSEC itself) ----------------------------------------------
{
  cat <<'ZONE'
$ORIGIN example.test.
$TTL 3600
@               SOA   ns1 hostmaster 2026112901 7200 3600 1209600 300
@               NS    ns1
@               NS    ns2
ns1             A     192.0.2.53
ns1             AAAA  2001:db8::53
ns2             A     198.51.100.53
ns2             AAAA  2001:db8:1::53
@               A     192.0.2.1
@               AAAA  2001:db8::1
@               MX    10 mx1
@               MX    20 mx2
@               MX    30 mx3.mail
@               TXT   "v=spf1 mx -all"
@               TXT   "google-site-verification=0123456789abcdef" "second string in the same TXT"
www             A     192.0.2.80
www             AAAA  2001:db8::80
www.eu          CNAME www
api.eu          A     192.0.2.81
mx1             A     192.0.2.25
mx1             AAAA  2001:db8::25
mx2             A     198.51.100.25
mx3.mail        A     203.0.113.25
mx3.mail        AAAA  2001:db8:2::25
_sip._udp       SRV   10 60 5060 sip1.voice
_sip._udp       SRV   10 40 5060 sip2.voice
_sip._udp       SRV   20 0  5060 sip-backup.voice
_sip._tcp       SRV   10 0  5060 sip1.voice
_dmarc          TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
sip1.voice      A     192.0.2.61
sip1.voice      AAAA  2001:db8::61
sip2.voice      A     192.0.2.62
sip2.voice      AAAA  2001:db8::62
sip-backup.voice A    198.51.100.61
ZONE
  # A large RRset: 48 AAAA records under one name.
  for i in $(seq 1 48); do
    printf 'big             AAAA  2001:db8:b16::%x\n' "$i"
  done
} > "$WORK/zones/example.test.zone"

# ---- Knot configuration ------------------------------------------------------------------------------------------
cat > "$WORK/knot.conf" <<CONF
server:
    rundir: "$WORK/run"
    pidfile: "$WORK/run/knot.pid"
    listen: 127.0.0.1@$PORT
    udp-max-payload: 4096
    identity: "ratadns-bench"
    nsid: "ratadns-bench"

control:
    listen: "$WORK/run/knot.sock"

log:
  - target: stderr
    any: warning

database:
    storage: "$WORK/db"

keystore:
  - id: local
    config: "$WORK/keys"

policy:
  - id: rsa
    keystore: local
    algorithm: rsasha256
    ksk-size: 2048
    zsk-size: 2048
    nsec3: off

template:
  - id: default
    storage: "$WORK/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: example.test
    dnssec-signing: on
    dnssec-policy: rsa
CONF

knotd -c "$WORK/knot.conf" 2> "$WORK/knotd.log" &
KNOT_PID=$!

# Wait until the zone is loaded and signed: the SOA answer carries an RRSIG.
for _ in $(seq 1 100); do
  if kdig @127.0.0.1 -p "$PORT" +dnssec +short +retry=0 +timeout=1 example.test SOA 2>/dev/null | grep -q '^SOA '; then
    break
  fi
  sleep 0.2
done
if ! kdig @127.0.0.1 -p "$PORT" +dnssec +retry=0 +timeout=1 example.test SOA | grep -q RRSIG; then
  echo "knotd did not serve a signed example.test; log:" >&2
  cat "$WORK/knotd.log" >&2
  exit 1
fi

# ---- capture the queries -----------------------------------------------------------------------------------------
PCAP="$WORK/knot-sample.pcap"
tcpdump -i lo -U --immediate-mode -n -s 0 -Z root -w "$PCAP" "udp port $PORT" 2> "$WORK/tcpdump.log" &
TCPDUMP_PID=$!
# --immediate-mode: deliver each packet at once (the kernel otherwise holds them up to a second).
# -Z root: the default drop to user tcpdump could not write into the private temp directory.
# tcpdump prints "listening on" once the capture is open.
for _ in $(seq 1 50); do
  grep -q 'listening on' "$WORK/tcpdump.log" && break
  sleep 0.1
done

q() { kdig @127.0.0.1 -p "$PORT" +retry=0 +timeout=2 "$@" > /dev/null; }
q +dnssec +nsid +cookie www.example.test A            # the EDNS query
q www.example.test AAAA
q example.test MX
q example.test TXT
q _dmarc.example.test TXT
q www.eu.example.test A                                # CNAME chain
q _sip._udp.example.test SRV                           # the compressed response
q +dnssec +bufsize=4096 big.example.test AAAA          # the large DNSSEC response
q +dnssec +bufsize=4096 example.test DNSKEY
q +dnssec nothere.example.test A                       # NXDOMAIN with NSEC proof
sleep 1.5
kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=""

cp "$PCAP" "$OUT/knot-sample.pcap"

# ---- extract the three payloads ----------------------------------------------------------------------------------
tshark -r "$PCAP" -T fields -E separator='|' \
  -e frame.number -e dns.flags.response -e dns.qry.name -e dns.qry.type -e dns.opt -e udp.payload > "$WORK/fields.txt"

python3 - "$WORK/fields.txt" "$OUT" <<'PY'
import sys, pathlib

fields, out = sys.argv[1], pathlib.Path(sys.argv[2])
rows = []
for line in open(fields):
    frame, response, qname, qtype, opt, payload = line.rstrip("\n").split("|")
    rows.append((int(frame), response in ("1", "True"), qname, int(qtype), opt != "", bytes.fromhex(payload.replace(":", ""))))

def pick(is_response, qname, qtype, need_opt=False):
    for frame, response, name, t, has_opt, payload in rows:
        if response == is_response and name.lower() == qname and t == qtype and (has_opt or not need_opt):
            return frame, payload
    sys.exit(f"no {'response' if is_response else 'query'} for {qname} type {qtype} in the capture")

wanted = {
    "query-edns.bin": pick(False, "www.example.test", 1, need_opt=True),
    "response-compressed.bin": pick(True, "_sip._udp.example.test", 33),
    "response-dnssec-large.bin": pick(True, "big.example.test", 28),
}
for file, (frame, payload) in wanted.items():
    (out / file).write_bytes(payload)
    print(f"{file}: frame {frame}, {len(payload)} bytes")
PY

echo "wrote $OUT/knot-sample.pcap ($(tcpdump -r "$OUT/knot-sample.pcap" 2>/dev/null | wc -l) packets)"

# ---- check each payload: wrap it in a UDP packet and let tshark dissect it --------------------------------------
for f in query-edns response-compressed response-dnssec-large; do
  od -Ax -tx1 -v "$OUT/$f.bin" | text2pcap -q -u 53,53 - "$WORK/$f.pcap" > /dev/null 2>&1
  summary=$(tshark -r "$WORK/$f.pcap" -T fields -E separator=' ' \
    -e dns.flags.response -e dns.qry.name -e dns.count.answers -e dns.count.add_rr -e dns.rrsig.type_covered 2>/dev/null)
  malformed=$(tshark -r "$WORK/$f.pcap" -Y _ws.malformed 2>/dev/null | wc -l)
  echo "$f.bin: response/qname/answers/additional/rrsig-covers = $summary; malformed: $malformed"
  if [[ "$malformed" != "0" ]]; then
    exit 1
  fi
done
