#!/usr/bin/env python3
"""Demo driver for `make demo`: a burst of `complete` requests against fallbackd.

Sends --requests completions (default 60) from --concurrency threads (default
6, one client each), cycling through the seed tasks plus an unknown task that
falls back to the default chain.  Prints one line per request as it finishes,
then a summary.  Exits 0 when at least one request succeeded.

    python3 examples/demo.py --socket /tmp/fallbackd-demo.sock --requests 60 --concurrency 6
"""

import argparse
import os
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import List, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

from fallbackd_client import (  # noqa: E402
    AllBreakersOpen,
    AllModelsFailed,
    DaemonUnavailable,
    DeadlineExceeded,
    FallbackClient,
    FallbackError,
    default_socket_path,
    format_attempts,
)

TASKS = ["complex_reasoning", "simple_generation", "document_analysis", "code_generation", "default", "translation"]

PROMPTS = {
    "complex_reasoning": "A bat and a ball cost $1.10; the bat costs $1 more than the ball. What does the ball cost?",
    "simple_generation": "Write a one-line slogan for a bakery.",
    "document_analysis": "Summarise: 'Revenue grew 12% while costs fell 3%, lifting margins to a record high.'",
    "code_generation": "Write a Python function that reverses a linked list.",
    "default": "Say hello in five words.",
    "translation": "Translate 'good morning' into French.",
}


@dataclass
class Outcome:
    index: int
    task: str
    ok: bool
    model: str
    fallback_count: int
    attempts: str
    latency_ms: float
    cost_usd: float
    error: str = ""


# Why a model of the chain was passed over or moved back, as the route says it.
WHY = {
    "open": "breaker open",
    "isolated": "isolated by an operator",
    "probe_busy": "half-open, probe under way",
    "rate_limited_until": "parked by Retry-After",
    "degraded": "demoted: degraded",
    "over_cost_ratio": "over the cost guard",
    "skipped_by_deadline": "no time left",
}


def skipped_prefix(route) -> str:
    """Why models of the chain were skipped or demoted for this request, e.g. ``"[gpt-4o: breaker open] "``.

    Errors of the models that were tried show in the attempts after it (``gpt-4o:server_error -> ...``)."""
    skipped = [f"{entry.get('model')}: {WHY[entry.get('reason')]}" for entry in route or [] if entry.get("reason") in WHY]
    return "".join(f"[{item}] " for item in skipped)


def run_one(client: FallbackClient, index: int, task: str) -> Outcome:
    """Send one completion and describe how it went."""
    started = time.monotonic()
    try:
        result = client.complete(f"[demo #{index}] {PROMPTS[task]}", task=task, max_tokens=200,
                                 metadata={"source": "demo", "n": index})
    except (AllModelsFailed, DeadlineExceeded, AllBreakersOpen) as exc:
        route = getattr(exc, "route", None)
        return Outcome(index, task, False, "-", max(len(exc.attempts) - 1, 0),
                       skipped_prefix(route) + format_attempts(exc.attempts),
                       (time.monotonic() - started) * 1000, 0.0, type(exc).__name__)
    except (FallbackError, DaemonUnavailable, TimeoutError) as exc:
        return Outcome(index, task, False, "-", 0, "", (time.monotonic() - started) * 1000, 0.0,
                       f"{type(exc).__name__}: {exc}")
    return Outcome(index, task, True, result.model_used, result.fallback_count,
                   skipped_prefix(result.route) + result.attempts_summary(),
                   float(result.latency_ms), result.cost_usd)


def format_line(o: Outcome) -> str:
    status = "ok  " if o.ok else "FAIL"
    detail = o.attempts if o.ok else f"{o.error}  {o.attempts}".rstrip()
    return (f"#{o.index:<4} {status} {o.task:<18} {o.model:<20} fb={o.fallback_count:<2} "
            f"{o.latency_ms:>7.0f} ms  ${o.cost_usd:<10.6f} {detail}")


def summarize(outcomes: List[Outcome], wall_s: float) -> str:
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    used_fallback = sum(1 for o in ok if o.fallback_count > 0)
    share = f"{used_fallback}/{len(ok)} ({100.0 * used_fallback / len(ok):.1f}%)" if ok else "0/0"
    failure_kinds = Counter(o.error.split(":")[0] for o in failed)
    lines = [
        "",
        "summary",
        f"  requests          {len(outcomes)}",
        f"  successes         {len(ok)}",
        f"  failures          {len(failed)}"
        + (f"  ({', '.join(f'{k}: {v}' for k, v in sorted(failure_kinds.items()))})" if failed else ""),
        f"  used a fallback   {share}",
        f"  total cost        ${sum(o.cost_usd for o in ok):.6f}",
        f"  wall time         {wall_s:.2f} s",
        "",
        f"  {'model':<22} {'served':>6}",
    ]
    served = Counter(o.model for o in ok)
    for model, count in sorted(served.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {model:<22} {count:>6}")
    if not served:
        lines.append("  (none)")
    return "\n".join(lines)


def breaker_report(client: FallbackClient) -> str:
    """The breakers after the burst: which tripped, why, and where they stand now."""
    lines = ["", f"  {'breaker':<22} {'state':<10} {'trips':>5}  last trip"]
    for entry in client.breakers().get("breakers", []):
        lines.append(f"  {entry['model']:<22} {entry['state']:<10} {entry['trips']:>5}  {entry.get('last_trip_reason') or '-'}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default=None, help="daemon socket (default: client default path)")
    parser.add_argument("--requests", type=int, default=120, help="number of complete requests (default 120)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel clients (default 4)")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout per request, seconds")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be >= 1")
    socket_path = args.socket or default_socket_path()

    try:
        with FallbackClient(socket_path, timeout=args.timeout) as probe:
            probe.ping()
    except (DaemonUnavailable, TimeoutError, FallbackError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2

    print(f"demo: {args.requests} requests, concurrency {args.concurrency}, socket {socket_path}")
    work: "queue.Queue[int]" = queue.Queue()
    for i in range(args.requests):
        work.put(i)
    outcomes: List[Outcome] = []
    lock = threading.Lock()

    def worker() -> None:
        with FallbackClient(socket_path, timeout=args.timeout) as client:
            while True:
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    return
                outcome = run_one(client, i + 1, TASKS[i % len(TASKS)])
                with lock:
                    outcomes.append(outcome)
                    print(format_line(outcome), flush=True)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, name=f"demo-{n}") for n in range(min(args.concurrency, args.requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes.sort(key=lambda o: o.index)
    print(summarize(outcomes, time.monotonic() - started))
    print("\n  why a model was passed over: [model: breaker open | parked by Retry-After | demoted: degraded | ...];"
          "\n  why an attempt failed: model:error_type (server_error, rate_limited, overloaded, timeout...)")
    with FallbackClient(socket_path, timeout=args.timeout) as client:
        print(breaker_report(client))
    return 0 if any(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
