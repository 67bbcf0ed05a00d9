"""Command line: ``python -m fallbackd_client [--socket PATH] ping|status|models|chains|complete PROMPT``.

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
    complete = sub.add_parser("complete", help="run a completion")
    complete.add_argument("prompt", help="user message")
    complete.add_argument("--task", default="default", help="task / chain name (default: default)")
    complete.add_argument("--model", action="append", dest="models", metavar="NAME",
                          help="explicit chain entry (repeatable)")
    complete.add_argument("--system", help="system message")
    complete.add_argument("--max-tokens", type=int)
    complete.add_argument("--temperature", type=float)
    complete.add_argument("--timeout-ms", type=int)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with FallbackClient(args.socket, timeout=args.timeout) as client:
            if args.command == "complete":
                messages = [{"role": "user", "content": args.prompt}]
                if args.system:
                    messages.insert(0, {"role": "system", "content": args.system})
                output = client.complete(messages, task=args.task, models=args.models, max_tokens=args.max_tokens,
                                         temperature=args.temperature, timeout_ms=args.timeout_ms).raw
            else:
                output = client.call(args.command)
    except FallbackError as exc:
        print(json.dumps({"error": exc.to_dict()}, indent=2), file=sys.stderr)
        return 1
    except (DaemonUnavailable, TimeoutError, ProtocolError) as exc:
        print(f"fallbackd_client: {exc}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(output, indent=2), flush=True)
    except BrokenPipeError:  # e.g. piped into `head`: point stdout at devnull so exit stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
