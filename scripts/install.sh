#!/usr/bin/env bash
# Installs the published `ratadns` (scripts/publish.sh) as a system daemon:
#   PREFIX/bin/ratadns                        the single-file program (default PREFIX: /usr/local)
#   /etc/systemd/system/ratadns.service       when packaging/ratadns.service is in the repository
#   user and group `ratadns`                  a system user with no login shell and no home
#   /etc/ratadns/monitor.json                 from samples/monitor.json, only when absent (an edited config is kept)
# Running it again changes nothing that is already right; it replaces the program and the unit with the new ones.
#
# Usage: scripts/install.sh [PREFIX]                install (publishes first when artifacts/publish/ratadns is absent)
#        scripts/install.sh --uninstall [PREFIX]    removes the program and the unit, and the user; keeps
#                                                   /etc/ratadns (your configuration) and says so
# Env:   RATADNS_BINARY=path   the program to install (default artifacts/publish/ratadns)
#        DESTDIR=dir           stage everything under dir (packaging); no user is created and systemd is not told
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
USER_NAME=ratadns

say() { echo "install.sh: $*"; }
have_systemd() { [[ -z $DESTDIR ]] && command -v systemctl > /dev/null && [[ -d /run/systemd/system ]]; }

if $uninstall; then
  if [[ -f $UNIT_DIR/ratadns.service ]]; then
    if have_systemd; then
      systemctl disable --now ratadns.service 2> /dev/null || true
    fi
    rm -f "$UNIT_DIR/ratadns.service"
    have_systemd && systemctl daemon-reload
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
  [[ -d $CONFIG_DIR ]] && say "kept $CONFIG_DIR (your configuration): remove it by hand if you want it gone"
  exit 0
fi

if [[ ! -x $BINARY ]]; then
  say "$BINARY is absent: publishing it first"
  bash "$ROOT/scripts/publish.sh" "$(dirname "$BINARY")"
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

# The configuration: the sample is a starting point; an existing file is the operator's and is never overwritten.
install -d -m 0755 "$CONFIG_DIR"
if [[ ! -e $CONFIG_DIR/monitor.json ]]; then
  install -m 0644 "$ROOT/samples/monitor.json" "$CONFIG_DIR/monitor.json"
  say "installed $CONFIG_DIR/monitor.json from samples/monitor.json: edit InputSource (an interface) before starting"
fi

# The systemd unit, when the repository has one; ExecStart in it names /usr/local/bin, so a PREFIX other than
# /usr/local gets its own path written into the installed copy.
if [[ -f $UNIT_SOURCE ]]; then
  install -d -m 0755 "$UNIT_DIR"
  unit=$(sed "s#/usr/local/bin/ratadns#$PREFIX/bin/ratadns#g" "$UNIT_SOURCE")
  if [[ ! -f $UNIT_DIR/ratadns.service ]] || [[ $unit != "$(cat "$UNIT_DIR/ratadns.service")" ]]; then
    printf '%s\n' "$unit" > "$UNIT_DIR/ratadns.service"
    chmod 0644 "$UNIT_DIR/ratadns.service"
    say "installed $UNIT_DIR/ratadns.service"
    have_systemd && systemctl daemon-reload
  fi
  say "start it with: systemctl enable --now ratadns"
else
  say "no packaging/ratadns.service in the repository: no systemd unit installed"
fi
