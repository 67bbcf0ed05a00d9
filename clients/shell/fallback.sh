#!/usr/bin/env bash
# fallback.sh - minimal shell client for fallbackd (line-delimited JSON-RPC 2.0
# over a Unix socket; see docs/protocol.md).
#
# Source it to get functions:
#     . clients/shell/fallback.sh
#     fallback_rpc ping                         # prints the reply line
#     fallback_rpc complete '{"messages":[{"role":"user","content":"hi"}]}'
#     fallback_complete "Write a haiku" simple_generation
#     fallback_route complex_reasoning          # the order models would be tried in now
#     fallback_cost 30                          # spend over the last 30 days
#
# Or run it:
#     fallback.sh ping | status | models | chains | breakers
#     fallback.sh complete "prompt" [task]
#     fallback.sh route [task]                  # planned order, skipped models last, with reasons
#     fallback.sh health [minutes]              # success rate, latency, breaker per model (1..60, default 15)
#     fallback.sh cost [days]                   # spend per task, model and week (last 1..3660 days, default 7)
#     fallback.sh shadow [days]                 # shadow models against the models they shadowed
#     fallback.sh breaker-reset MODEL | breaker-isolate MODEL
#     fallback.sh rpc METHOD [PARAMS_JSON]
#
# Each call opens one connection, sends one request line, half-closes, and
# prints the reply line the daemon writes before closing.  The exit status is
# 0 for a result, 1 for a JSON-RPC error reply, 2 for usage errors, 3 when the
# daemon cannot be reached, 4 when neither socat nor nc is installed.
#
# Environment:
#     FALLBACKD_SOCKET   socket path (else $XDG_RUNTIME_DIR/fallbackd.sock,
#                        else /tmp/fallbackd-$UID.sock)
#     FALLBACKD_TIMEOUT  seconds to wait for a reply (default 60)
#
# Needs socat, or an OpenBSD-style nc with -U.  Uses python3 (if present) to
# JSON-escape strings; otherwise escapes with bash parameter expansion.

# Print the socket path the client will use.
fallback_socket() {
    if [ -n "${FALLBACKD_SOCKET:-}" ]; then
        printf '%s\n' "$FALLBACKD_SOCKET"
    elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
        printf '%s\n' "$XDG_RUNTIME_DIR/fallbackd.sock"
    else
        printf '/tmp/fallbackd-%s.sock\n' "$(id -u)"
    fi
}

# Print STRING as a JSON string literal (with quotes, no newline).
fallback_json_string() {
    local s=$1 out c i
    if command -v python3 >/dev/null 2>&1 &&
        out=$(python3 -c 'import json, sys; sys.stdout.write(json.dumps(sys.argv[1]))' "$1" 2>/dev/null); then
        printf '%s' "$out"
        return
    fi
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    if [[ $s == *[[:cntrl:]]* ]]; then
        # Rare: other control characters must be \u-escaped as well.
        out=""
        for ((i = 0; i < ${#s}; i++)); do
            c=${s:i:1}
            if [[ $c == [[:cntrl:]] ]]; then
                printf -v c '\\u%04x' "'$c"
            fi
            out+=$c
        done
        s=$out
    fi
    printf '"%s"' "$s"
}

# Send one JSON-RPC line to the daemon and print the reply.
fallback_send() {
    local sock timeout reply rc
    sock=$(fallback_socket)
    timeout=${FALLBACKD_TIMEOUT:-60}
    if [ ! -S "$sock" ]; then
        printf 'fallback: no fallbackd socket at %s; start fallbackd (fallbackd --config FILE) or set FALLBACKD_SOCKET\n' \
            "$sock" >&2
        return 3
    fi
    # Strip raw newlines: a request must be exactly one line (JSON allows the
    # whitespace to go; newlines inside JSON strings are escaped anyway).
    local line=${1//$'\r'/}
    line=${line//$'\n'/ }
    if command -v socat >/dev/null 2>&1; then
        # -t: keep reading this long after our side is done (socat's default is 0.5 s).
        reply=$(printf '%s\n' "$line" | socat -t "$timeout" -T "$timeout" - "UNIX-CONNECT:$sock")
        rc=$?
    elif command -v nc >/dev/null 2>&1; then
        if nc -h 2>&1 | grep -q -- '-N'; then
            # -N: half-close after the request so the daemon closes once it has replied.
            reply=$(printf '%s\n' "$line" | nc -U -N -w "$timeout" "$sock")
        else
            reply=$(printf '%s\n' "$line" | nc -U -q "$timeout" "$sock")
        fi
        rc=$?
    else
        echo "fallback: neither socat nor nc is installed" >&2
        return 4
    fi
    if [ -z "$reply" ]; then
        printf 'fallback: no reply from fallbackd at %s (exit %s)\n' "$sock" "$rc" >&2
        return 3
    fi
    printf '%s\n' "$reply"
    if [[ $reply =~ ^[[:space:]]*\{.*\"error\"[[:space:]]*:[[:space:]]*\{ ]] && [[ ! $reply =~ \"result\"[[:space:]]*: ]]; then
        return 1
    fi
    return 0
}

_fallback_next_id() {
    _FALLBACK_ID=$(( ${_FALLBACK_ID:-0} + 1 ))
}

# fallback_rpc METHOD [PARAMS_JSON]: send a request, print the reply line.
fallback_rpc() {
    if [ $# -lt 1 ] || [ -z "$1" ]; then
        echo "usage: fallback_rpc METHOD [PARAMS_JSON]" >&2
        return 2
    fi
    local method params=${2:-} req
    method=$(fallback_json_string "$1")
    _fallback_next_id
    req="{\"jsonrpc\":\"2.0\",\"id\":${_FALLBACK_ID},\"method\":${method}"
    if [ -n "$params" ]; then
        req+=",\"params\":${params}"
    fi
    req+="}"
    fallback_send "$req"
}

# fallback_complete "prompt" [task]: one user message through the task's chain.
fallback_complete() {
    if [ $# -lt 1 ]; then
        echo "usage: fallback_complete PROMPT [TASK]" >&2
        return 2
    fi
    local content task
    content=$(fallback_json_string "$1")
    task=$(fallback_json_string "${2:-default}")
    fallback_rpc complete "{\"messages\":[{\"role\":\"user\",\"content\":${content}}],\"task\":${task}}"
}

# fallback_route [task]: the chain a completion for TASK would walk now.
fallback_route() {
    if [ $# -gt 1 ]; then
        echo "usage: fallback_route [TASK]" >&2
        return 2
    fi
    if [ $# -eq 0 ]; then
        fallback_rpc route
    else
        fallback_rpc route "{\"task\":$(fallback_json_string "$1")}"
    fi
}

# fallback_health [minutes]: each model's health over the last MINUTES (1..60; daemon default 15).
fallback_health() { _fallback_count_param health window_minutes MINUTES 60 "$@"; }
# fallback_cost [days], fallback_shadow [days]: cost.report, shadow.report over the last DAYS (1..3660; default 7).
fallback_cost() { _fallback_count_param cost.report days DAYS 3660 "$@"; }
fallback_shadow() { _fallback_count_param shadow.report days DAYS 3660 "$@"; }

# _fallback_count_param METHOD PARAM NAME MAX [N]: METHOD without params, or with {PARAM: N}.
_fallback_count_param() {
    local method=$1 param=$2 name=$3 max=$4
    shift 4
    if [ $# -gt 1 ] || { [ $# -eq 1 ] && [[ ! $1 =~ ^[0-9]{1,9}$ ]]; }; then
        echo "usage: fallback_${method%.report} [$name]   (an integer from 1 to $max)" >&2
        return 2
    fi
    if [ $# -eq 0 ]; then
        fallback_rpc "$method"
    else
        fallback_rpc "$method" "{\"$param\":$((10#$1))}"
    fi
}

# fallback_breaker reset|isolate MODEL: close a model's breaker, or take the model out of every chain.
fallback_breaker() {
    if [ $# -ne 2 ] || { [ "$1" != reset ] && [ "$1" != isolate ]; }; then
        echo "usage: fallback_breaker reset|isolate MODEL" >&2
        return 2
    fi
    fallback_rpc "breaker.$1" "{\"model\":$(fallback_json_string "$2")}"
}

_fallback_usage() {
    cat >&2 <<'EOF'
usage: fallback.sh ping|status|models|chains|breakers
       fallback.sh complete "prompt" [task]
       fallback.sh route [task]
       fallback.sh health [minutes] | cost [days] | shadow [days]
       fallback.sh breaker-reset MODEL
       fallback.sh breaker-isolate MODEL
       fallback.sh rpc METHOD [PARAMS_JSON]
environment: FALLBACKD_SOCKET, FALLBACKD_TIMEOUT
EOF
}

_fallback_main() {
    local cmd=${1:-}
    case $cmd in
        ping | status | models | chains | breakers)
            [ $# -eq 1 ] || { _fallback_usage; return 2; }
            fallback_rpc "$cmd"
            ;;
        route)
            [ $# -le 2 ] || { _fallback_usage; return 2; }
            shift
            fallback_route "$@"
            ;;
        health | cost | shadow)
            [ $# -le 2 ] || { _fallback_usage; return 2; }
            shift
            "fallback_$cmd" "$@"
            ;;
        breaker-reset | breaker-isolate)
            [ $# -eq 2 ] || { _fallback_usage; return 2; }
            fallback_breaker "${cmd#breaker-}" "$2"
            ;;
        complete)
            [ $# -ge 2 ] && [ $# -le 3 ] || { _fallback_usage; return 2; }
            shift
            fallback_complete "$@"
            ;;
        rpc)
            [ $# -ge 2 ] && [ $# -le 3 ] || { _fallback_usage; return 2; }
            shift
            fallback_rpc "$@"
            ;;
        -h | --help | help)
            _fallback_usage
            ;;
        *)
            _fallback_usage
            return 2
            ;;
    esac
}

# Run the CLI only when executed, not when sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    _fallback_main "$@"
    exit $?
fi
