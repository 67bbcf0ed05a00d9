#!/usr/bin/env bash
# fallback.sh - minimal shell client for fallbackd (line-delimited JSON-RPC 2.0
# over a Unix socket; see docs/protocol.md).
#
# Source it to get functions:
#     . clients/shell/fallback.sh
#     fallback_rpc ping                         # prints the reply line
#     fallback_rpc complete '{"messages":[{"role":"user","content":"hi"}]}'
#     fallback_complete "Write a haiku" simple_generation
#     fallback_stream "Write a haiku" simple_generation   # prints the text as it arrives
#     fallback_request request.json             # a whole Chat Completions request ('-': stdin)
#     fallback_route complex_reasoning          # the order models would be tried in now
#     fallback_cost 30                          # spend over the last 30 days
#
# Or run it:
#     fallback.sh ping | status | models | chains | breakers
#     fallback.sh complete "prompt" [task]
#     fallback.sh stream "prompt" [task]        # the answer's text as it arrives, then a newline
#     fallback.sh request FILE|-                # FILE holds complete's params (an OpenAI request)
#     fallback.sh route [task]                  # planned order, skipped models last, with reasons
#     fallback.sh health [minutes]              # success rate, latency, breaker per model (1..60, default 15)
#     fallback.sh cost [days]                   # spend per task, model and week (last 1..3660 days, default 7)
#     fallback.sh shadow [days]                 # shadow models against the models they shadowed
#     fallback.sh breaker-reset MODEL | breaker-isolate MODEL
#     fallback.sh rpc METHOD [PARAMS_JSON]
#
# Each call opens one connection, sends one request line, half-closes, and
# prints the reply line the daemon writes before closing (with "stream": true,
# fallback_request prints the complete.delta notification lines before it).
# fallback_stream prints only the text, and an error message on stderr.  The
# exit status is 0 for a result, 1 for a JSON-RPC error reply, 2 for usage
# errors, 3 when the daemon cannot be reached (or, streaming, the connection
# ended before the reply; the request is never resent), 4 when neither socat
# nor nc is installed.
#
# Environment:
#     FALLBACKD_SOCKET   socket path (else $XDG_RUNTIME_DIR/fallbackd.sock,
#                        else /tmp/fallbackd-$UID.sock)
#     FALLBACKD_TIMEOUT  seconds to wait for a reply (default 60)
#
# Needs socat, or an OpenBSD-style nc with -U.  Uses python3 (if present) to
# JSON-escape strings; otherwise escapes with bash parameter expansion.
# Replies are read with bash pattern matching (no jq needed).

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

# _fallback_ready: check the socket and the tools; 0, or 3 (no socket) / 4 (no socat or nc) with a message.
_fallback_ready() {
    local sock
    sock=$(fallback_socket)
    if [ ! -S "$sock" ]; then
        printf 'fallback: no fallbackd socket at %s; start fallbackd (fallbackd --config FILE) or set FALLBACKD_SOCKET\n' \
            "$sock" >&2
        return 3
    fi
    if ! command -v socat >/dev/null 2>&1 && ! command -v nc >/dev/null 2>&1; then
        echo "fallback: neither socat nor nc is installed" >&2
        return 4
    fi
}

# _fallback_transmit LINE: send LINE on a new connection, half-close, and copy every line the
# daemon writes to stdout as it arrives, until the daemon closes (or FALLBACKD_TIMEOUT of silence).
_fallback_transmit() {
    local sock timeout
    sock=$(fallback_socket)
    timeout=${FALLBACKD_TIMEOUT:-60}
    # Strip raw newlines: a request must be exactly one line (JSON allows the
    # whitespace to go; newlines inside JSON strings are escaped anyway).
    local line=${1//$'\r'/}
    line=${line//$'\n'/ }
    if command -v socat >/dev/null 2>&1; then
        # -t: keep reading this long after our side is done (socat's default is 0.5 s).
        printf '%s\n' "$line" | socat -t "$timeout" -T "$timeout" - "UNIX-CONNECT:$sock"
    elif nc -h 2>&1 | grep -q -- '-N'; then
        # -N: half-close after the request so the daemon closes once it has replied.
        printf '%s\n' "$line" | nc -U -N -w "$timeout" "$sock"
    else
        printf '%s\n' "$line" | nc -U -q "$timeout" "$sock"
    fi
}

# _fallback_is_error LINE: whether a reply line is a JSON-RPC error reply.
_fallback_is_error() {
    [[ $1 =~ ^[[:space:]]*\{.*\"error\"[[:space:]]*:[[:space:]]*\{ ]] && [[ ! $1 =~ \"result\"[[:space:]]*: ]]
}

# Send one JSON-RPC line to the daemon and print the reply (after any notification lines).
fallback_send() {
    local reply rc
    _fallback_ready || return
    reply=$(_fallback_transmit "$1")
    rc=$?
    if [ -z "$reply" ]; then
        printf 'fallback: no reply from fallbackd at %s (exit %s)\n' "$(fallback_socket)" "$rc" >&2
        return 3
    fi
    printf '%s\n' "$reply"
    if _fallback_is_error "${reply##*$'\n'}"; then
        return 1
    fi
    return 0
}

# _fallback_json_unescape TEXT: print the JSON string body TEXT (without quotes) decoded, no newline.
_fallback_json_unescape() {
    local s=$1 out="" c code low n
    while [[ $s == *\\* ]]; do
        out+=${s%%\\*}
        s=${s#*\\}
        c=${s:0:1}
        s=${s:1}
        case $c in
            n) out+=$'\n' ;;
            t) out+=$'\t' ;;
            r) out+=$'\r' ;;
            b) out+=$'\b' ;;
            f) out+=$'\f' ;;
            u)
                code=$((16#${s:0:4}))
                s=${s:4}
                if ((code >= 0xD800 && code < 0xDC00)) && [[ $s =~ ^\\u[dD][c-fC-F][0-9a-fA-F]{2} ]]; then
                    low=$((16#${s:2:4}))
                    s=${s:6}
                    code=$((0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                fi
                # UTF-8 by hand: printf's \U depends on the locale (C prints it unconverted).
                n=$(( (code >= 0x80) + (code >= 0x800) + (code >= 0x10000) ))
                printf -v c '\\%03o' $(( (n ? 0xF0 << (3 - n) & 0xF0 : 0) | code >> 6 * n ))
                for ((; n > 0; n--)); do
                    printf -v c '%s\\%03o' "$c" $(( 0x80 | (code >> 6 * (n - 1) & 0x3F) ))
                done
                printf -v c "$c"
                out+=$c
                ;;
            *) out+=$c ;; # \" \\ \/
        esac
    done
    printf '%s' "$out$s"
}

# _fallback_member JSON KEY: print member KEY of the JSON object JSON starts with (a string
# decoded, a number/true/false/null as is; nested objects and arrays are skipped). 1 if absent.
_fallback_member() {
    local rest=$1 key="\"$2\"" depth=0 tok prev="" prev2=""
    local re='^[[:space:]]*("([^"\\]|\\.)*"|[]{},:[]|[^]"{},:[[:space:]]+)'
    while [[ $rest =~ $re ]]; do
        tok=${BASH_REMATCH[1]}
        rest=${rest:${#BASH_REMATCH[0]}}
        case $tok in
            '{' | '[') depth=$((depth + 1)) ;;
            '}' | ']')
                depth=$((depth - 1))
                ((depth > 0)) || return 1
                ;;
            *)
                if ((depth == 1)) && [ "$prev" = : ] && [ "$prev2" = "$key" ]; then
                    if [[ $tok == \"* ]]; then
                        _fallback_json_unescape "${tok:1:${#tok}-2}"
                    else
                        printf '%s' "$tok"
                    fi
                    return 0
                fi
                ;;
        esac
        prev2=$prev
        prev=$tok
    done
    return 1
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

# fallback_request FILE|-: send the JSON object in FILE (or stdin) as complete's params: an OpenAI
# Chat Completions request plus fallbackd's fields (task, models, timeout_ms, metadata, shadow, ...).
fallback_request() {
    if [ $# -ne 1 ] || [ -z "$1" ]; then
        echo "usage: fallback_request FILE   (complete's params as a JSON object; '-' reads stdin)" >&2
        return 2
    fi
    local params
    if [ "$1" = - ]; then
        params=$(cat) || return 2
    elif [ -r "$1" ] && [ -f "$1" ]; then
        params=$(<"$1")
    else
        printf 'fallback: cannot read %s\n' "$1" >&2
        return 2
    fi
    if [[ ! $params =~ ^[[:space:]]*\{ ]]; then
        echo 'fallback: the request must be a JSON object: {"messages":[{"role":"user","content":"hi"}], ...}' >&2
        return 2
    fi
    fallback_rpc complete "$params"
}

# fallback_stream "prompt" [task]: a streaming completion; prints the text as it arrives, then a
# newline. An error reply (e.g. -32006 stream interrupted) goes to stderr with exit status 1.
fallback_stream() {
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "usage: fallback_stream PROMPT [TASK]" >&2
        return 2
    fi
    local content task
    content=$(fallback_json_string "$1")
    task=$(fallback_json_string "${2:-default}")
    _fallback_ready || return
    _fallback_next_id
    local params="{\"messages\":[{\"role\":\"user\",\"content\":${content}}],\"task\":${task},\"stream\":true}"
    _fallback_transmit "{\"jsonrpc\":\"2.0\",\"id\":${_FALLBACK_ID},\"method\":\"complete\",\"params\":${params}}" |
        _fallback_print_stream "$_FALLBACK_ID"
}

# _fallback_print_stream ID: read a streaming reply on stdin; print the text of ID's deltas.
_fallback_print_stream() {
    local id=$1 line code message params q='[[:space:]]*:[[:space:]]*'
    local ours="\"id\"${q}${id}([^0-9.eE]|\$)" content='"content"'"$q"'"(([^"\]|\\.)*)"'
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        # Skip other requests' messages (and blank lines); an error with "id": null concerns ours.
        [[ $line =~ $ours ]] || { [[ $line =~ \"id\"${q}null ]] && _fallback_is_error "$line"; } || continue
        if [[ $line =~ \"method\"${q}\"complete\.delta\" ]]; then
            if [[ $line =~ $content ]]; then
                _fallback_json_unescape "${BASH_REMATCH[1]}"
            fi
        elif [[ $line =~ \"method\"${q}\"complete\.reset\" ]]; then
            params=${line#*\"params\"*:}
            printf '\nfallback: stream reset: %s failed (%s); discard the text above\n' \
                "$(_fallback_member "$params" model)" "$(_fallback_member "$params" reason)" >&2
        elif _fallback_is_error "$line"; then
            printf '\n'
            [[ $line =~ \"error\"${q}(\{.*) ]]
            code=$(_fallback_member "${BASH_REMATCH[1]}" code)
            message=$(_fallback_member "${BASH_REMATCH[1]}" message)
            printf 'fallback: error %s: %s\n' "${code:-?}" "${message:-?}" >&2
            return 1
        else
            printf '\n'
            return 0
        fi
    done
    printf '\n'
    echo "fallback: the connection to fallbackd ended before the reply (the request was not resent)" >&2
    return 3
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
       fallback.sh stream "prompt" [task]     print the answer as it arrives
       fallback.sh request FILE|-             send complete's params (an OpenAI request) from FILE or stdin
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
        complete | stream)
            [ $# -ge 2 ] && [ $# -le 3 ] || { _fallback_usage; return 2; }
            shift
            "fallback_$cmd" "$@"
            ;;
        request)
            [ $# -eq 2 ] || { _fallback_usage; return 2; }
            fallback_request "$2"
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
