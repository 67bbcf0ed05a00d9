#!/usr/bin/env python3
"""Example: use the fallbackd Python client.

Pings the daemon, lists chains, then runs one completion per seed task and
prints which model answered, how many fallbacks it took and what it cost.

    python3 examples/python_client.py [--socket PATH]

Works from a source checkout (no install needed); with the package installed
(`pip install ./clients/python`) the sys.path line is unnecessary.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

from fallbackd_client import (  # noqa: E402
    AllModelsFailed,
    DaemonUnavailable,
    DeadlineExceeded,
    FallbackClient,
    FallbackError,
    format_attempts,
)

REQUESTS = [
    ("complex_reasoning", "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies? Explain."),
    ("simple_generation", "Write a haiku about autumn."),
    ("document_analysis", [
        {"role": "system", "content": "You summarise documents in one sentence."},
        {"role": "user", "content": "Q3 revenue rose 12% on strong cloud demand; operating costs fell 3%."},
    ]),
    ("code_generation", "Write a Python function is_palindrome(s) that ignores case and spaces."),
    ("default", "What is the capital of Australia?"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description="fallbackd Python client example")
    parser.add_argument("--socket", help="daemon socket (default: $FALLBACKD_SOCKET or the standard path)")
    args = parser.parse_args()

    with FallbackClient(args.socket) as client:
        try:
            print("ping ->", client.ping())
        except DaemonUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
        status = client.status()
        print(f"fallbackd {status.get('version')} pid {status.get('pid')}, models: {', '.join(status.get('models', []))}")
        for task, chain in sorted(client.chains()["chains"].items()):
            print(f"  chain {task:<18} {' -> '.join(chain)}")
        print()

        for task, messages in REQUESTS:
            try:
                result = client.complete(messages, task=task, max_tokens=300, temperature=0.2)
            except (AllModelsFailed, DeadlineExceeded) as exc:
                # Every model in the chain failed (or the deadline ran out): the
                # error still tells you what was tried.
                print(f"[{task}] FAILED ({exc.message}): {format_attempts(exc.attempts)}")
                continue
            except FallbackError as exc:
                print(f"[{task}] error {exc.code}: {exc.message}")
                continue
            print(f"[{task}] model_used={result.model_used} fallback_count={result.fallback_count} "
                  f"cost=${result.cost_usd:.6f} latency={result.latency_ms}ms")
            print(f"    attempts: {result.attempts_summary()}")
            print(f"    {result.content.strip()[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
