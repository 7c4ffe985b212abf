#!/usr/bin/env bash
# Installs what RataDns's build, tests and sample run need on a Debian 12 machine with the .NET 10 SDK (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in libpcap0.8 tcpdump tshark knot knot-dnsutils dnsperf dnsdist python3-dnspython redis-server python3-zmq python3-msgpack chromium libzmq5 afl++ prometheus postgresql debootstrap systemd-container unbound fstrm-bin dnstap-ldns knot-module-dnstap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
dotnet --version >/dev/null
# SharpFuzz's instrumenter, for the fuzz smoke run (fuzz/smoke.sh) and fuzz/run.sh.
if [ ! -x /opt/ratadns-tools/sharpfuzz ]; then
  dotnet tool install --tool-path /opt/ratadns-tools SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi
echo "setup: system packages present; .NET SDK $(dotnet --version)"
