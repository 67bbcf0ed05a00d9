#!/usr/bin/env python3
"""Scriptable fake LLM providers for fallbackd's integration tests (stdlib only).

One HTTP/1.1 server (keep-alive, exact Content-Length, 127.0.0.1, ephemeral port)
speaks the real wire formats of:

  OpenAI chat completions     POST /openai/v1/chat/completions
  OpenAI-compatible           POST /compat/v1/chat/completions
  Anthropic messages          POST /anthropic/v1/messages
  Gemini generateContent      POST /gemini/v1beta/models/{model}:generateContent

so a provider's ``base_url`` is ``http://127.0.0.1:PORT/openai/v1``,
``.../compat/v1``, ``.../anthropic/v1`` or ``.../gemini/v1beta``.

Behaviour is scripted per model id (the ``model`` field of the body, or the
``{model}`` path segment for Gemini) through a control API on the same server:

  POST /_control/script    {"model": "gpt-4o", "steps": ["rate_limited", {"kind": "ok"}], "then": "ok"}
  POST /_control/reset     forget scripts and recorded requests (and let every held request go)
  POST /_control/release   {"model": "gpt-4o"}: the requests held by `hold` steps of that model answer
                           now, and its later `hold` steps pass at once; {} releases every model
  GET  /_control/requests  [{path, method, headers (lower-case names), body (parsed JSON), ...}]
  GET  /_control/health    {"ok": true}

Steps are consumed one per request, then ``then`` answers forever. A model
without a script uses the ``"*"`` script if there is one, else ``ok``.

Step kinds (a string, or an object {"kind": ..., params}):

  ok              200, deterministic content (see ``reply_text``), usage = word counts
                  params: content (override text), input_tokens, output_tokens
  rate_limited    429 (+ retry-after / RetryInfo); params: retry_after (seconds, default 1)
  server_error    500
  unavailable     503
  overloaded      Anthropic 529 overloaded_error; others 503
  auth            401
  forbidden       403
  invalid_key     like auth, except Gemini: its real 400 INVALID_ARGUMENT / API_KEY_INVALID
  suspended       Gemini's real 403 "Consumer 'api_key:KEY' has been suspended" (echoes the key!);
                  others behave like forbidden
  bad_request     400 (plain invalid request)
  not_found       404 model not found
  context_length  400 context_length_exceeded / "prompt is too long" / Gemini token count
  content_filter  OpenAI 400 content_policy_violation; compat 400 code content_filter (Azure);
                  Anthropic 400 "Output blocked by content filtering policy";
                  Gemini 200 promptFeedback.blockReason SAFETY
  safety_stop     200 whose only candidate/choice stopped for safety with no text
                  (Gemini finishReason SAFETY, OpenAI finish_reason content_filter, Anthropic stop_reason refusal)
  malformed       200 application/json whose body is not valid JSON
  empty           200 valid JSON without content (choices [], content [], candidate without parts)
  error_in_200    200 whose body is the provider's error object
  gateway         502 text/html from a proxy
  hang            read the request, never answer; ends when the client goes away (or 60 s, or stop)
  slow:<ms>       answer ok after <ms> (also {"kind": "slow", "ms": 800})
  hold            read the request and wait until the test releases the model (``release(model)``),
                  then answer ``after`` (any answering kind, default ok; {"kind": "hold", "after":
                  "server_error"}). A barrier without clocks: while held, the request is provably in
                  flight. Ends like hang when the client goes away first (or 60 s, or stop).
                  The entry's ``ended`` says how: released, client_closed, timeout, stopped
  stall_body      send headers (full Content-Length) and part of the body, then stall like hang

Run as a script: ``python3 fake_providers.py --port 0`` prints ``PORT <n>`` as the
first stdout line and serves until SIGTERM/SIGINT.

Python API: ``start_fake_providers() -> FakeProviders`` (in-process, background
thread) and ``RemoteFakeProviders(port)`` (same API over the control routes).

The implementation lives in sibling modules (this file re-exports their names):
fakes_common (constants, helpers, error bodies, Reply), fakes_state (FakeState),
fakes_requests (auth + validation), fakes_bodies (ok/error bodies), fakes_openai,
fakes_anthropic, fakes_gemini (per-flavor script kinds), fakes_server (Handler,
make_server) and fakes_control (FakeProviders, RemoteFakeProviders).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fakes_common import (  # noqa: E402,F401
    _GATEWAY_HTML,
    _GEMINI_ROUTE,
    _ROUTES,
    BASE_PATHS,
    DEFAULT_RETRY_AFTER_S,
    FLAVORS,
    HANG_LIMIT_S,
    KINDS,
    Reply,
    _anthropic_error,
    _fmt_seconds,
    _gemini_error,
    _json_bytes,
    _openai_error,
    _parts_text,
    _retry_after,
    _text_of,
    expected_reply,
    mask_key,
    normalize_step,
    reply_text,
    reply_usage,
    word_count,
)
from fakes_control import FakeProviders, RemoteFakeProviders, start_fake_providers  # noqa: E402,F401
from fakes_server import Handler, _Server, make_server  # noqa: E402,F401
from fakes_state import FakeState, _Script  # noqa: E402,F401


def main(argv=None):
    ap = argparse.ArgumentParser(description="Scriptable fake OpenAI/Anthropic/Gemini HTTP server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    fp = FakeProviders(args.host, args.port, args.verbose)
    sys.stdout.write(f"PORT {fp.port}\n")
    sys.stdout.flush()
    done = threading.Event()

    def _stop(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not done.wait(0.5):
        pass
    fp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
