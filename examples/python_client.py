#!/usr/bin/env python3
"""Example: use the fallbackd Python client.

Pings the daemon, lists chains, then runs one completion per seed task and
prints which model answered, how many fallbacks it took and what it cost.
Then streams one answer as it arrives, and runs one tool call round trip.

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
    Reset,
    StreamInterrupted,
    format_attempts,
)

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}

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
            print(f"    {result.text.strip()[:200]}")

        print("\n[streaming]")
        stream = client.stream("Write two sentences about autumn.", task="simple_generation",
                               on_interrupt="restart")
        try:
            for event in stream:
                if isinstance(event, Reset):  # the model failed mid-answer: what was printed is void
                    print(f"\n  [{event.model} failed ({event.reason}); starting again on the next model]")
                elif event.content:
                    print(event.content, end="", flush=True)
            print(f"\n  model_used={stream.result.model_used} finish_reason={stream.result.finish_reason} "
                  f"usage={stream.result.usage}")
        except StreamInterrupted as exc:  # only with on_interrupt="error" (the default)
            print(f"\n  cut after {exc.content_chars} characters: {exc.reason}")
        except FallbackError as exc:
            print(f"\n  error {exc.code}: {exc.message}")

        print("\n[tool call]")
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        try:
            result = client.complete(messages, tools=[WEATHER_TOOL], max_completion_tokens=200)
            if result.tool_calls:
                messages.append(result.to_message())
                for call in result.parsed_tool_calls():
                    print(f"  {call.name}({call.arguments})")
                    messages.append(call.result_message({"city": call.arguments.get("city"), "temp_c": 18}))
                result = client.complete(messages, tools=[WEATHER_TOOL], max_completion_tokens=200)
            print(f"  {result.model_used}: {result.text.strip()[:200]}  (finish_reason={result.finish_reason})")
        except FallbackError as exc:
            print(f"  error {exc.code}: {exc.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
