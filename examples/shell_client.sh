#!/usr/bin/env bash
# Example: talk to fallbackd from bash with clients/shell/fallback.sh.
#
#     examples/shell_client.sh            # uses $FALLBACKD_SOCKET or the standard path
#
# Needs socat (or OpenBSD nc).  If jq is installed, replies are summarised;
# otherwise the raw reply lines are printed.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../clients/shell/fallback.sh
. "$here/../clients/shell/fallback.sh"

echo "socket: $(fallback_socket)"
if ! fallback_rpc ping; then
    echo "fallbackd is not reachable; start it first (fallbackd --config FILE)" >&2
    exit 1
fi

have_jq=0
command -v jq >/dev/null 2>&1 && have_jq=1

show() { # summarise a complete reply line
    if [ "$have_jq" = 1 ]; then
        jq -r 'if .error then "  error \(.error.code): \(.error.message)"
               else "  model_used=\(.result.model_used) fallback_count=\(.result.fallback_count) cost=\(.result.cost_usd)\n  \(.result.content[0:160])"
               end'
    else
        cat
    fi
}

echo
echo "chains:"
fallback_rpc chains

for task in complex_reasoning simple_generation document_analysis code_generation default; do
    echo
    echo "[$task]"
    fallback_complete "Give a one-sentence example answer for a \"$task\" request." "$task" | show
done

echo
echo "[streaming: the text as it arrives]"
fallback_stream "Write two sentences about autumn." simple_generation

echo
echo "[a whole Chat Completions request via fallback_request]"
fallback_request - <<'JSON' | show
{"messages": [{"role": "developer", "content": "Answer in one word."},
              {"role": "user", "content": "Capital of France?"}],
 "max_completion_tokens": 20, "task": "simple_generation"}
JSON

echo
echo "[explicit chain via fallback_rpc]"
fallback_rpc complete '{"messages":[{"role":"user","content":"Say hi"}],"models":["gpt-4o-mini","claude-3-haiku"],"max_tokens":50}' | show
