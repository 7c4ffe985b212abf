#!/usr/bin/env bash
# Installs the published `ratadns` (scripts/publish.sh) as a systemd service that starts and captures:
#   libpcap0.8, libzmq5                       the system libraries it uses (apt-get, when they are missing)
#   PREFIX/bin/ratadns                        the single-file program (default PREFIX: /usr/local)
#   user and group `ratadns`                  a system account, no login shell, no home
#   /var/lib/ratadns, /var/log/ratadns        its state and its results (owner ratadns, mode 0750)
#   /etc/ratadns/monitor.json                 only when absent (an edited configuration is kept): live capture of
#                                             DNS (port 53) on the interface of the default route, one-second
#                                             windows, results to rotated files in /var/log/ratadns (not journald)
#   /etc/systemd/system/ratadns.service       from packaging/ratadns.service
# Running it again changes nothing that is already right; it replaces the program and the unit with the new ones.
# It does not start the service: `systemctl enable --now ratadns` does, when the configuration suits you.
#
# Usage: scripts/install.sh [PREFIX]                install (publishes first when artifacts/publish/ratadns is absent)
#        scripts/install.sh --uninstall [PREFIX]    removes the program, the unit and the user; keeps /etc/ratadns
#                                                   (your configuration) and /var/log/ratadns (your results)
# Env:   RATADNS_BINARY=path   the program to install (default artifacts/publish/ratadns)
#        RATADNS_INTERFACE=if  the interface the new configuration captures on (default: the default route's)
#        DESTDIR=dir           stage everything under dir (packaging): no user, no packages, systemd not told
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
uninstall=false
if [[ ${1:-} == --uninstall ]]; then
  uninstall=true
  shift
fi
PREFIX=${1:-/usr/local}
DESTDIR=${DESTDIR:-}
BINARY=${RATADNS_BINARY:-$ROOT/artifacts/publish/ratadns}
UNIT_SOURCE=$ROOT/packaging/ratadns.service
BIN_DIR=$DESTDIR$PREFIX/bin
UNIT_DIR=$DESTDIR/etc/systemd/system
CONFIG_DIR=$DESTDIR/etc/ratadns
STATE_DIR=$DESTDIR/var/lib/ratadns
LOG_DIR=$DESTDIR/var/log/ratadns
USER_NAME=ratadns

say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }
have_systemd() { [[ -z $DESTDIR ]] && command -v systemctl > /dev/null && [[ -d /run/systemd/system ]]; }

if [[ -z $DESTDIR && $EUID -ne 0 ]]; then
  fail "run it as root (sudo bash scripts/install.sh): it creates a user, /etc/ratadns and a systemd unit"
fi

if $uninstall; then
  if [[ -f $UNIT_DIR/ratadns.service ]]; then
    if have_systemd; then
      systemctl disable --now ratadns.service 2> /dev/null || true
    fi
    rm -f "$UNIT_DIR/ratadns.service"
    if have_systemd; then systemctl daemon-reload; fi
    say "removed $UNIT_DIR/ratadns.service"
  fi
  if [[ -e $BIN_DIR/ratadns ]]; then
    rm -f "$BIN_DIR/ratadns"
    say "removed $BIN_DIR/ratadns"
  fi
  if [[ -z $DESTDIR ]] && getent passwd "$USER_NAME" > /dev/null; then
    userdel "$USER_NAME"
    say "removed user $USER_NAME"
  fi
  [[ -d $CONFIG_DIR ]] && say "kept $CONFIG_DIR (your configuration) and $LOG_DIR (your results): remove them by hand if you want them gone"
  exit 0
fi

if [[ ! -x $BINARY ]]; then
  command -v dotnet > /dev/null || fail "$BINARY is absent and there is no .NET SDK to publish it: run scripts/publish.sh on a build machine and give the file as RATADNS_BINARY=path"
  say "$BINARY is absent: publishing it first"
  bash "$ROOT/scripts/publish.sh" "$(dirname "$BINARY")"
fi

# The system libraries: libpcap for live capture (needed), libzmq for CurveZMQ allowed keys and handshake reports.
have_library() { /sbin/ldconfig -p 2> /dev/null | grep -q " $1 "; }
missing=()
have_library libpcap.so.0.8 || missing+=(libpcap0.8)
have_library libzmq.so.5 || missing+=(libzmq5)
if ((${#missing[@]} > 0)) && [[ -z $DESTDIR ]]; then
  if command -v apt-get > /dev/null; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh system may have no package lists yet: update once if the first try cannot find the packages.
    apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null 2>&1 \
      || { apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null; } \
      || fail "apt-get could not install ${missing[*]}; install them, then run this again"
  else
    have_library libpcap.so.0.8 || fail "libpcap (libpcap.so.0.8) is missing and there is no apt-get: install it with your package manager, then run this again"
    say "libzmq (libzmq.so.5) is missing: CurveZMQ allowed keys and handshake reports need it; everything else works"
  fi
fi

# The program: install(1) writes a new file and renames it, so a running daemon keeps its old, intact binary.
install -d -m 0755 "$BIN_DIR"
if ! cmp -s "$BINARY" "$BIN_DIR/ratadns"; then
  install -m 0755 "$BINARY" "$BIN_DIR/ratadns"
  say "installed $BIN_DIR/ratadns"
fi

# The user the daemon runs as: a system account, no login shell, no home directory.
if [[ -z $DESTDIR ]] && ! getent passwd "$USER_NAME" > /dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --comment "RataDns DNS traffic monitor" "$USER_NAME"
  say "created system user $USER_NAME"
fi

# Its directories (systemd's StateDirectory= and LogsDirectory= make them too; these serve a run by hand).
owner=()
[[ -z $DESTDIR ]] && owner=(-o "$USER_NAME" -g "$USER_NAME")
for dir in "$STATE_DIR" "$LOG_DIR"; do
  if [[ ! -d $dir ]]; then
    install -d -m 0750 "${owner[@]}" "$dir"
    say "created $dir"
  fi
done

# The interface to capture on: the one of the IPv4 default route, else of the IPv6 one, else libpcap's "any".
default_interface() {
  local name
  name=$(awk 'NR > 1 && $2 == "00000000" { print $1; exit }' /proc/net/route 2> /dev/null || true)
  [[ -z $name ]] && name=$(awk '$1 == "00000000000000000000000000000000" && $2 == "00" && $10 != "lo" { print $10; exit }' /proc/net/ipv6_route 2> /dev/null || true)
  echo "${name:-any}"
}

# The configuration: written once, for this machine; an existing file is the operator's and is never overwritten.
install -d -m 0755 "$CONFIG_DIR"
if [[ ! -e $CONFIG_DIR/monitor.json ]]; then
  interface=${RATADNS_INTERFACE:-$(default_interface)}
  why=", the interface of the default route"
  [[ -n ${RATADNS_INTERFACE:-} ]] && why=" (RATADNS_INTERFACE)"
  [[ $interface == any ]] && why=" (libpcap's every interface: no default route was found)"
  server=$(hostname 2> /dev/null || cat /proc/sys/kernel/hostname)
  cat > "$CONFIG_DIR/monitor.json.new" << EOF
// RataDns monitor, written by scripts/install.sh on $(date -u +%Y-%m-%d) for ${server}.
// Live capture of DNS (port 53) on ${interface}${why};
// one-second windows; the default reducers. Results go to ${LOG_DIR#"$DESTDIR"}/results.json, one JSON
// object a line, a new file every day or 100 MB, 14 kept; the journal gets only the program's own lines.
// Other ports: "Ports": [53, 5300]. Results to an aggregator instead: "ZeroMq": {"Bind": "tcp://0.0.0.0:5556"}
// and "OutputMethod": "zmq" in "Output" (README.md, "Operations").
// Apply a change with: systemctl reload ratadns (outputs and reducers; capture keys need a restart)
{
  "ServerId": "${server}",
  "InputMethod": "interface",
  "InputSource": "${interface}",
  "Ports": [53],
  "WindowMilliseconds": 1000,
  "Output": {
    "OutputMethod": "file",
    "OutputFile": "${LOG_DIR#"$DESTDIR"}/results.json",
    "MaxFileBytes": 104857600,
    "RotateSeconds": 86400,
    "MaxFiles": 14
  }
}
EOF
  # Readable by the service (group ratadns), not by everyone: it may come to name key files and servers.
  chmod 0640 "$CONFIG_DIR/monitor.json.new"
  [[ -z $DESTDIR ]] && chgrp "$USER_NAME" "$CONFIG_DIR/monitor.json.new"
  mv "$CONFIG_DIR/monitor.json.new" "$CONFIG_DIR/monitor.json"
  say "wrote $CONFIG_DIR/monitor.json: live capture on $interface, port 53, results to ${LOG_DIR#"$DESTDIR"}/results.json"
else
  say "kept $CONFIG_DIR/monitor.json (yours)"
fi

# The systemd unit; ExecStart in it names /usr/local/bin, so a PREFIX other than /usr/local gets its own path
# written into the installed copy.
install -d -m 0755 "$UNIT_DIR"
unit=$(sed "s#/usr/local/bin/ratadns#$PREFIX/bin/ratadns#g" "$UNIT_SOURCE")
if [[ ! -f $UNIT_DIR/ratadns.service ]] || [[ $unit != "$(cat "$UNIT_DIR/ratadns.service")" ]]; then
  printf '%s\n' "$unit" > "$UNIT_DIR/ratadns.service"
  chmod 0644 "$UNIT_DIR/ratadns.service"
  say "installed $UNIT_DIR/ratadns.service"
  if have_systemd; then systemctl daemon-reload; fi
fi
say "start it with: systemctl enable --now ratadns; results in ${LOG_DIR#"$DESTDIR"}/results.json; its own lines: journalctl -u ratadns"
