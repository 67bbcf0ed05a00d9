#!/usr/bin/env bash
# make bench: measures fallbackd's own overhead. The same requests go straight to a fast local
# nginx upstream and through fallbackd (release build); fallbackd-bench reports p50/p99 at a fixed
# rate, the maximum rate, the ping floor, the daemon's RSS, and an outage run (one provider failing:
# fallbackd's defaults against a second daemon running the plain waterfall), into bench-results/report-*.md.
#
# Extra arguments go to fallbackd-bench, e.g. `bash Tests/bench/run.sh --rate 2000 --rounds 3`.
# BENCH_SKIP_BUILD=1 uses the release binaries already built.
# BENCH_KEEP_TMP=1 keeps the temp dir (configs, logs, call logs).
# BENCH_SKIP_INSTRUCTIONS=1 skips the callgrind instruction counts (Tests/bench/instructions.sh).
# BENCH_PERF=PHASE samples fallbackd with `perf record -e cpu-clock -g` during one phase (through,
# max-through, ping-max, ...) and writes a summary to bench-results/perf-PHASE-<time>.txt. perf takes
# CPU too, so that run's numbers are a little worse.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=Tests/bench
BUILD_TIMEOUT=${BENCH_BUILD_TIMEOUT:-2400}   # first release build ~5 min; may wait for other builds' lock
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fallbackd-bench.XXXXXX")
NGINX_PID=""
DAEMON_PID=""
WATERFALL_PID=""
BENCH_PID=""

say() { echo "== bench: $*" >&2; }

# Stops one process we started: SIGNAL, then up to SECONDS, then SIGKILL. Reaps it.
stop_pid() {
    local pid=$1 signal=$2 seconds=$3 i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill "-$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < seconds * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not stop on SIG$signal within ${seconds}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pid "$BENCH_PID" TERM 2
    stop_pid "$DAEMON_PID" TERM 15
    stop_pid "$WATERFALL_PID" TERM 15
    stop_pid "$NGINX_PID" QUIT 5
    if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- nginx -----------------------------------------------------------------------------------
find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }
NGINX=$(find_nginx)
if [ -z "$NGINX" ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    say "installing nginx"
    timeout 300 $sudo_cmd apt-get update -qq
    if apt-cache show nginx-light >/dev/null 2>&1; then pkg=nginx-light; else pkg=nginx; fi
    timeout 600 $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    NGINX=$(find_nginx)
    [ -n "$NGINX" ] || { say "nginx is not available after installing $pkg"; exit 1; }
fi

# --- build -----------------------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "swift build -c release (the first release build takes about 5 minutes on 2 cores)"
    # One --product per invocation: SwiftPM builds only the last one given.
    for product in fallbackd fallbackd-bench; do
        timeout "$BUILD_TIMEOUT" swift build -c release --static-swift-stdlib --product "$product" 2>&1 \
            | grep -Ev "unhandled; explicitly declare|swift-distributed-tracing/Sources/.*/CMakeLists.txt" >&2
    done
fi
BIN=$(swift build -c release --static-swift-stdlib --show-bin-path)
for product in fallbackd fallbackd-bench; do
    [ -x "$BIN/$product" ] || { say "$BIN/$product is missing"; exit 1; }
done

# --- upstream --------------------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

upstream_answers() {
    python3 - "$1" <<'EOF'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("POST", "/v1/chat/completions", body=b'{"model":"bench-model","messages":[]}',
          headers={"content-type": "application/json"})
r = c.getresponse()
body = json.loads(r.read())
sys.exit(0 if r.status == 200 and body["choices"][0]["message"]["content"] else 1)
EOF
}

start_nginx() {
    local attempt i
    for attempt in 1 2 3; do
        PORT=$(free_port)
        sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$PORT#g" "$HERE/nginx.conf.in" > "$TMP/nginx.conf"
        "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/nginx-error.log" &
        NGINX_PID=$!
        for ((i = 0; i < 100; i++)); do
            kill -0 "$NGINX_PID" 2>/dev/null || break
            if upstream_answers "$PORT" 2>/dev/null; then return 0; fi
            sleep 0.05
        done
        say "nginx did not come up on port $PORT (attempt $attempt):"
        tail -5 "$TMP/nginx-error.log" >&2 || true
        stop_pid "$NGINX_PID" QUIT 3
        NGINX_PID=""
    done
    return 1
}

mkdir -p "$TMP/client_body" "$TMP/proxy" "$TMP/fastcgi" "$TMP/uwsgi" "$TMP/scgi"
start_nginx || { say "could not start nginx"; exit 1; }
NGINX_WORKER=$(ps -o pid= --ppid "$NGINX_PID" | head -1 | tr -d ' ' || true)
say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$PORT (master $NGINX_PID, worker ${NGINX_WORKER:-?})"

# --- fallbackd -------------------------------------------------------------------------------
# Two daemons on the same upstream: the measured one with fallbackd's default resilience settings,
# and for the outage phases' comparison row the seed's plain waterfall (bench.toml + waterfall.toml.in).
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$PORT#g" -e "s#@NAME@#bench#g" "$HERE/bench.toml.in" > "$TMP/bench.toml"
{ sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$PORT#g" -e "s#@NAME@#waterfall#g" "$HERE/bench.toml.in"
  cat "$HERE/waterfall.toml.in"; } > "$TMP/waterfall.toml"
"$BIN/fallbackd" --check-config "$TMP/bench.toml" >&2
"$BIN/fallbackd" --check-config "$TMP/waterfall.toml" >&2

daemon_answers() {
    python3 - "$1" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(1)
s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if json.loads(data).get("result") == "pong" else 1)
EOF
}

# start_daemon NAME: runs fallbackd on $TMP/NAME.toml and $TMP/NAME.sock, waits (15 s at most) for it
# to answer ping, and sets STARTED_PID.
start_daemon() {
    local name=$1 socket="$TMP/$1.sock" pid i
    "$BIN/fallbackd" --config "$TMP/$name.toml" --socket "$socket" 2> "$TMP/$name.log" &
    pid=$!
    STARTED_PID=$pid
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        if [ -S "$socket" ] && daemon_answers "$socket" 2>/dev/null; then
            say "fallbackd ($name) pid $pid ready on $socket"
            return 0
        fi
        sleep 0.05
    done
    say "fallbackd ($name) did not answer ping on $socket; its log:"
    tail -20 "$TMP/$name.log" >&2 || true
    return 1
}

STARTED_PID=""
start_daemon bench || { DAEMON_PID=$STARTED_PID; exit 1; }
DAEMON_PID=$STARTED_PID
SOCKET="$TMP/bench.sock"
STARTED_PID=""
start_daemon waterfall || { WATERFALL_PID=$STARTED_PID; exit 1; }
WATERFALL_PID=$STARTED_PID

# --- measure ---------------------------------------------------------------------------------
mkdir -p bench-results
bench_args=(--socket "$SOCKET" --facade-socket "$TMP/bench-http.sock" --upstream "http://127.0.0.1:$PORT/v1/chat/completions" --pid "$DAEMON_PID"
    --waterfall-socket "$TMP/waterfall.sock" --waterfall-pid "$WATERFALL_PID" --out bench-results)
[ -n "${NGINX_WORKER:-}" ] && bench_args+=(--upstream-pid "$NGINX_WORKER")
PERF_PHASE=${BENCH_PERF:-}
if [ -n "$PERF_PHASE" ]; then
    if command -v perf >/dev/null; then
        bench_args+=(--profile-phase "$PERF_PHASE" --profile-out "$TMP/perf.data")
    else
        say "BENCH_PERF is set but perf is not installed (apt-get install linux-perf); not profiling"
        PERF_PHASE=""
    fi
fi
timeout "$BENCH_TIMEOUT" "$BIN/fallbackd-bench" "${bench_args[@]}" "$@" &
BENCH_PID=$!
status=0
wait "$BENCH_PID" || status=$?
BENCH_PID=""
if [ "$status" = 0 ]; then
    say "first-token overhead of streaming (the same SSE answer straight from nginx and through fallbackd, alternating):"
    python3 "$HERE/first_token.py" --socket "$SOCKET" --upstream "http://127.0.0.1:$PORT/stream/v1/chat/completions" \
        --n "${BENCH_FIRST_TOKEN_N:-400}" | tee -a "bench-results/first-token-$(date -u +%Y%m%dT%H%M%SZ).txt" >&2 || status=$?
fi
if [ -n "$PERF_PHASE" ] && [ -s "$TMP/perf.data" ]; then
    perf_out="bench-results/perf-$PERF_PHASE-$(date -u +%Y%m%d-%H%M%S).txt"
    demangle() { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else swift demangle --simplified; fi; }
    report() { timeout 120 perf report -i "$TMP/perf.data" --stdio "$@" 2>/dev/null | grep -Ev '^(#|$)' || true; }
    {
        echo "# fallbackd (pid $DAEMON_PID) sampled with perf record -e cpu-clock -g during the '$PERF_PHASE' phase"
        echo "## by thread";                   report --no-children --sort comm -g none | head -12
        echo "## by library";                  report --no-children --sort dso -g none | head -15
        echo "## self time by symbol";         report --no-children --sort dso,symbol -g none | head -45
        echo "## inclusive time by symbol";    report --children --sort symbol -g none --percent-limit 2 | head -120
    } | demangle | cut -c1-220 > "$perf_out"
    say "perf profile of the $PERF_PHASE phase: $perf_out"
fi

# --- stop ------------------------------------------------------------------------------------
# stop_daemon NAME PID: SIGTERM, 15 s to exit; sets STOP_STATUS (its exit status; 1 when it did not exit).
stop_daemon() {
    local name=$1 pid=$2 i
    STOP_STATUS=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        say "fallbackd ($name) did not exit within 15 s of SIGTERM"
        STOP_STATUS=1
        return
    fi
    wait "$pid" || STOP_STATUS=$?
    [ "$STOP_STATUS" = 0 ] || say "fallbackd ($name) exited with status $STOP_STATUS after SIGTERM"
}
stop_daemon bench "$DAEMON_PID"
daemon_status=$STOP_STATUS
kill -0 "$DAEMON_PID" 2>/dev/null || DAEMON_PID=""        # one still running is left to the trap
stop_daemon waterfall "$WATERFALL_PID"
[ "$daemon_status" != 0 ] || daemon_status=$STOP_STATUS
kill -0 "$WATERFALL_PID" 2>/dev/null || WATERFALL_PID=""
for name in bench waterfall; do
    if [ -s "$TMP/$name.log" ]; then
        say "fallbackd ($name) log (warnings and above), last lines:"
        tail -5 "$TMP/$name.log" >&2
    fi
done
if command -v sqlite3 >/dev/null; then
    for name in bench waterfall; do
        [ -f "$TMP/$name-calls.sqlite" ] || continue
        say "call log rows written ($name): $(sqlite3 "$TMP/$name-calls.sqlite" 'select count(*) from model_calls' 2>/dev/null || echo '?')"
    done
fi
if [ "$status" = 124 ]; then say "fallbackd-bench timed out after ${BENCH_TIMEOUT}s"; fi
[ "$status" = 0 ] || exit "$status"
[ "$daemon_status" = 0 ] || exit "$daemon_status"
# Instructions per request: callgrind's count does not depend on how busy the machine is.
if [ "${BENCH_SKIP_INSTRUCTIONS:-0}" != 1 ]; then
    say "instructions per request under callgrind (a few minutes: valgrind runs the daemon ~50x slower)"
    bash "$HERE/instructions.sh" "$BIN/fallbackd" "${BENCH_INSTRUCTIONS_N:-200}" >&2
fi

# --- outage matrix ---------------------------------------------------------------------------
# fallbackd against an oracle (a second daemon told which model is healthy) in eight scripted outages
# on the fake providers, at a steady rate: success, p50/p99 and their ratio to the oracle, calls to dead
# models, hedges, Retry-After violations (Tests/bench/outage_matrix.py; about 5 minutes). Its report is
# bench-results/outage-matrix-<time>.md; a missed target does not fail the run (BENCH_OUTAGE_ARGS=--strict does).
# BENCH_SKIP_OUTAGE_MATRIX=1 skips it; BENCH_OUTAGE_ARGS passes flags, e.g. "--duration 10 --only flapping".
if [ "${BENCH_SKIP_OUTAGE_MATRIX:-0}" != 1 ]; then
    say "outage matrix: fallbackd against an oracle in eight scripted outages"
    # shellcheck disable=SC2086  # BENCH_OUTAGE_ARGS is a list of flags
    timeout "${BENCH_OUTAGE_TIMEOUT:-1800}" python3 "$HERE/outage_matrix.py" "$BIN/fallbackd" --out bench-results \
        ${BENCH_OUTAGE_ARGS:-} >&2
fi
