"""Command line: ``python -m fallbackd_client [--socket PATH] COMMAND``.

Commands: ping, status, models, chains, complete PROMPT [--shadow|--no-shadow],
stream PROMPT [--restart] (prints the text as it arrives),
health [--window N], breakers, breaker-reset MODEL, breaker-isolate MODEL,
route [TASK], report MODEL --outcome success|error [--error-type T] --latency-ms N,
cost [--days N] [--weeks N] [--since MS [--until MS]], shadow [--days N].

Prints the JSON result on stdout.  A daemon error is printed as
``{"error": {...}}`` on stderr with exit status 1; an unreachable daemon
exits with status 2.
"""

import argparse
import json
import os
import sys
from typing import List, Optional

from .client import DEFAULT_TIMEOUT, FallbackClient
from .errors import DaemonUnavailable, FallbackError, ProtocolError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fallbackd_client", description="Talk to a running fallbackd.")
    parser.add_argument("--socket", help="daemon socket (default: $FALLBACKD_SOCKET, $XDG_RUNTIME_DIR/fallbackd.sock, "
                                         "/tmp/fallbackd-$UID.sock)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for a reply")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("ping", "status", "models", "chains"):
        sub.add_parser(name, help=f"call {name}")
    for name, text in (("complete", "run a completion"), ("stream", "run a completion, printing text as it comes")):
        complete = sub.add_parser(name, help=text)
        complete.add_argument("prompt", help="user message")
        complete.add_argument("--task", default="default", help="task / chain name (default: default)")
        complete.add_argument("--model", action="append", dest="models", metavar="NAME",
                              help="explicit chain entry (repeatable)")
        complete.add_argument("--system", help="system message")
        complete.add_argument("--max-tokens", type=int)
        complete.add_argument("--temperature", type=float)
        complete.add_argument("--timeout-ms", type=int)
        complete.add_argument("--shadow", action=argparse.BooleanOptionalAction, default=None,
                              help="ask for a shadow call on the backup model (--no-shadow: never); default: sampled")
        if name == "stream":
            complete.add_argument("--restart", action="store_true",
                                  help="on_interrupt=restart: start over on the next model if the stream is cut")
    health = sub.add_parser("health", help="success rate, latency and breaker per model")
    health.add_argument("--window", type=int, metavar="MINUTES", help="window in minutes, 1..60 (default 15)")
    sub.add_parser("breakers", help="every model's circuit breaker")
    for name, verb in (("breaker-reset", "close"), ("breaker-isolate", "isolate")):
        sub.add_parser(name, help=f"{verb} one model's breaker").add_argument("model")
    route = sub.add_parser("route", help="the order a completion would try models in now")
    route.add_argument("task", nargs="?", default="default")
    report = sub.add_parser("report", help="report a call made outside fallbackd")
    report.add_argument("model")
    report.add_argument("--outcome", required=True, choices=("success", "error"))
    report.add_argument("--error-type")
    report.add_argument("--latency-ms", type=int, required=True)
    for name, text in (("cost", "spend per task, model and week"), ("shadow", "shadow models against primaries")):
        period = sub.add_parser(name, help=text)
        period.add_argument("--days", type=int, help="the last N days (default 7)")
        period.add_argument("--since", type=int, metavar="MS", help="start, unix milliseconds")
        period.add_argument("--until", type=int, metavar="MS", help="end, unix milliseconds (default now)")
        if name == "cost":
            period.add_argument("--weeks", type=int, help="weeks in the weekly totals (default 8)")
    return parser


_NO_OUTPUT = object()


def _stream(client: FallbackClient, args: argparse.Namespace, messages: List[dict]) -> object:
    def on_reset(event: object) -> None:
        print(f"\n[stream reset: {getattr(event, 'model', '?')} failed ({getattr(event, 'reason', '?')}); "
              f"the text above is void, starting again]", file=sys.stderr, flush=True)

    stream = client.stream(messages, task=args.task, models=args.models, max_tokens=args.max_tokens,
                           temperature=args.temperature, timeout_ms=args.timeout_ms, shadow=args.shadow,
                           on_interrupt="restart" if args.restart else None)
    try:
        for text in stream.text_chunks(on_reset=on_reset):
            sys.stdout.write(text)
            sys.stdout.flush()
    finally:
        sys.stdout.write("\n")
        sys.stdout.flush()
    return _NO_OUTPUT


def _run(client: FallbackClient, args: argparse.Namespace) -> object:
    if args.command in ("complete", "stream"):
        messages = [{"role": "user", "content": args.prompt}]
        if args.system:
            messages.insert(0, {"role": "system", "content": args.system})
        if args.command == "stream":
            return _stream(client, args, messages)
        return client.complete(messages, task=args.task, models=args.models, max_tokens=args.max_tokens,
                               temperature=args.temperature, timeout_ms=args.timeout_ms, shadow=args.shadow).raw
    if args.command == "health":
        return client.health(args.window)
    if args.command == "breaker-reset":
        return client.breaker_reset(args.model)
    if args.command == "breaker-isolate":
        return client.breaker_isolate(args.model)
    if args.command == "route":
        return client.route(args.task)
    if args.command == "report":
        return client.report(args.model, args.outcome, args.latency_ms, error_type=args.error_type)
    if args.command == "cost":
        return client.cost_report(args.days, args.since, args.until, weeks=args.weeks)
    if args.command == "shadow":
        return client.shadow_report(args.days, args.since, args.until)
    return client.call(args.command)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with FallbackClient(args.socket, timeout=args.timeout) as client:
            output = _run(client, args)
    except ValueError as exc:  # report: outcome and error_type do not match; cost: days with since
        print(f"fallbackd_client: {exc}", file=sys.stderr)
        return 2
    except FallbackError as exc:
        print(json.dumps({"error": exc.to_dict()}, indent=2), file=sys.stderr)
        return 1
    except (DaemonUnavailable, TimeoutError, ProtocolError) as exc:
        print(f"fallbackd_client: {exc}", file=sys.stderr)
        return 2
    if output is _NO_OUTPUT:
        return 0
    try:
        print(json.dumps(output, indent=2), flush=True)
    except BrokenPipeError:  # e.g. piped into `head`: point stdout at devnull so exit stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
