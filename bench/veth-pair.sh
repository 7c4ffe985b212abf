# Sourced by the live benchmarks (bench/live-capture.sh, bench/live-monitor.sh): veth_pair A B makes a veth pair
# A <-> B, up, without IPv6 (no router solicitations in the measurements), and deletes it when the script exits.
veth_pair() {
  VETH_A=$1
  trap 'ip link del "$VETH_A" 2> /dev/null || true' EXIT
  ip link del "$1" 2> /dev/null || true
  ip link add "$1" type veth peer name "$2"
  ip link set "$1" up
  ip link set "$2" up
  sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" "net.ipv6.conf.$2.disable_ipv6=1"
  sleep 1
}
