#!/usr/bin/env bash
# Installs what fallbackd needs to build and test, only when it is missing.
# System: libjansson-dev, libsqlite3-dev (linked by the daemon), socat (shell client, tests), postgresql
# (the server the fleet tests share between daemons; .ci/postgres.sh runs a private cluster of it).
# Python: pytest (client and integration tests), openai (the facade is tested with the official SDK,
# unchanged), prometheus_client (its parser checks /metrics), PyYAML (the examples are checked).
set -euo pipefail

need_apt=()
for pkg in libjansson-dev libsqlite3-dev socat sqlite3 postgresql; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "deps: installing ${need_apt[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

need_pip=()
for module in pytest:pytest openai:openai prometheus_client:prometheus_client yaml:PyYAML; do
    python3 -c "import ${module%%:*}" >/dev/null 2>&1 || need_pip+=("${module#*:}")
done
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "deps: installing ${need_pip[*]}"
    python3 -m pip install -q "${need_pip[@]}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${need_pip[@]}"
fi
