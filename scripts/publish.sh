#!/usr/bin/env bash
# Publishes `ratadns` as ONE self-contained executable for linux-x64: the .NET runtime, the ASP.NET Core shared
# framework (the aggregator), NetMQ, MessagePack, SharpPcap and System.CommandLine are all inside it, so the target
# machine needs no .NET. The publish mode (self-contained single file with ReadyToRun, uncompressed) is set
# in src/RataDns/RataDns.csproj for publishing only; bench/README.md "Start-up and publish modes" says why.
#
# At run time the binary needs only glibc, libstdc++/libgcc (libicu is not needed: InvariantGlobalization), OpenSSL
# (libssl3) for TLS, and, for live capture only, the system's libpcap (Debian: libpcap0.8, libpcap.so.0.8).
#
# Usage: scripts/publish.sh [OUTDIR]      (default: artifacts/publish; the program is OUTDIR/ratadns)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/artifacts/publish}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Into a fresh directory first: anything beside the program (a native library that single-file could not take in)
# is an error, since the program alone is what gets installed.
stage=$(mktemp -d /tmp/ratadns-publish.XXXXXX)
trap 'rm -rf "$stage"' EXIT
dotnet publish "$ROOT/src/RataDns" -c Release -r linux-x64 -nologo -v quiet -o "$stage"
[[ -x $stage/ratadns ]] || { echo "publish.sh: no ratadns was produced" >&2; exit 1; }
extra=$(cd "$stage" && find . -type f ! -name ratadns -printf '%P\n')
[[ -z $extra ]] || { echo "publish.sh: files beside the program, which would not be installed:" $extra >&2; exit 1; }
"$stage/ratadns" --version > /dev/null || { echo "publish.sh: the published ratadns does not run" >&2; exit 1; }
mv -f "$stage/ratadns" "$OUT/ratadns"
echo "$OUT/ratadns ($(stat -c %s "$OUT/ratadns") bytes)"
