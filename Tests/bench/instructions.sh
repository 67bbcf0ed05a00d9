#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: the same number on a busy or an idle
# machine, so a regression shows up as a number. Runs a fallbackd release binary under callgrind
# against the bench's nginx upstream, zeroes the counters after a warm-up, sends N requests of each
# kind one after another, and divides the instructions each phase cost by N:
#   complete  a plain complete to nginx (the bench's request)
#   stream    the same request streamed (nginx answers with server-sent events)
#   prompt    a complete whose prompt is 256 KiB: (its cost - complete's) / prompt bytes
#   ping      the JSON-RPC floor
# Usage: bash Tests/bench/instructions.sh [FALLBACKD_BIN] [N]   (default .build/release/fallbackd, 200)
# INSTRUCTIONS_KEEP=DIR keeps each phase's dump as DIR/PHASE.callgrind (read it with callgrind_annotate).
# Prints a table and writes bench-results/instructions-<time>.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=Tests/bench
BIN=${1:-.build/release/fallbackd}
N=${2:-200}
[ -x "$BIN" ] || { echo "instructions: no fallbackd binary at $BIN (make release)" >&2; exit 1; }
if ! command -v valgrind >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq valgrind >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nginx-light >/dev/null
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
[ -x "$NGINX" ] || { echo "instructions: nginx is missing (make bench installs it)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fallbackd-instr.XXXXXX")
NGINX_PID=""; DAEMON_PID=""
cleanup() {
    [ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/client_body" "$TMP/proxy" "$TMP/fastcgi" "$TMP/uwsgi" "$TMP/scgi"
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$PORT#g" "$HERE/nginx.conf.in" > "$TMP/nginx.conf"
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/nginx-error.log" &
NGINX_PID=$!
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$PORT#g" -e "s#@NAME@#instr#g" "$HERE/bench.toml.in" > "$TMP/instr.toml"

# valgrind 3.19 cannot read the DWARF 5 of these binaries: profile a copy without debug info (symbols stay).
objcopy --strip-debug "$BIN" "$TMP/fallbackd"
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out.%p" --dump-instr=no --collect-atstart=yes \
    "$TMP/fallbackd" --config "$TMP/instr.toml" --socket "$TMP/instr.sock" 2> "$TMP/valgrind.log" &
DAEMON_PID=$!

KEEP=()
[ -n "${INSTRUCTIONS_KEEP:-}" ] && { mkdir -p "$INSTRUCTIONS_KEEP"; KEEP=(--keep "$INSTRUCTIONS_KEEP"); }
python3 "$HERE/instructions_driver.py" --socket "$TMP/instr.sock" --pid "$DAEMON_PID" --n "$N" --out "$TMP/phases.txt" --dir "$TMP" "${KEEP[@]}"
mkdir -p bench-results
OUT="bench-results/instructions-$(date -u +%Y%m%dT%H%M%SZ).txt"
{ echo "fallbackd instructions per request (callgrind, $BIN, N=$N)"; cat "$TMP/phases.txt"; } | tee "$OUT"
