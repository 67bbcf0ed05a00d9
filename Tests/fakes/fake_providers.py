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
  POST /_control/reset     forget scripts and recorded requests
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
  stall_body      send headers (full Content-Length) and part of the body, then stall like hang

Run as a script: ``python3 fake_providers.py --port 0`` prints ``PORT <n>`` as the
first stdout line and serves until SIGTERM/SIGINT.

Python API: ``start_fake_providers() -> FakeProviders`` (in-process, background
thread) and ``RemoteFakeProviders(port)`` (same API over the control routes).
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import re
import select
import signal
import socket
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

HANG_LIMIT_S = 60.0
DEFAULT_RETRY_AFTER_S = 1

FLAVORS = ("openai", "compat", "anthropic", "gemini")

KINDS = frozenset(
    {
        "ok",
        "rate_limited",
        "server_error",
        "unavailable",
        "overloaded",
        "auth",
        "forbidden",
        "invalid_key",
        "suspended",
        "bad_request",
        "not_found",
        "context_length",
        "content_filter",
        "safety_stop",
        "malformed",
        "empty",
        "error_in_200",
        "gateway",
        "hang",
        "slow",
        "stall_body",
    }
)

# base path of each provider kind (what a daemon's base_url ends with)
BASE_PATHS = {
    "openai": "/openai/v1",
    "compat": "/compat/v1",
    "openai-compatible": "/compat/v1",
    "anthropic": "/anthropic/v1",
    "gemini": "/gemini/v1beta",
}

_GEMINI_ROUTE = re.compile(r"^/gemini/v1beta/models/([^/]+):generateContent$")
_ROUTES = {
    "/openai/v1/chat/completions": "openai",
    "/compat/v1/chat/completions": "compat",
    "/anthropic/v1/messages": "anthropic",
}


# --------------------------------------------------------------------------- helpers shared with tests


def word_count(text: str) -> int:
    return len(text.split())


def reply_text(flavor: str, model: str, last_user: str) -> str:
    """The deterministic content of an ``ok`` answer."""
    return f"fake-{flavor} {model} says: {last_user[:40]}"


def reply_usage(all_text_words: int, content: str) -> tuple[int, int]:
    """(input_tokens, output_tokens) of an ``ok`` answer."""
    return max(1, all_text_words), max(1, word_count(content))


def expected_reply(flavor: str, model: str, messages: list[dict]) -> dict:
    """What an ``ok`` answer contains for fallbackd-style messages [{role, content}].

    input tokens = words of every message (system included), output tokens = words of the reply.
    """
    last_user = ""
    for m in messages:
        if m.get("role") == "user":
            last_user = m.get("content", "")
    content = reply_text(flavor, model, last_user)
    words = sum(word_count(m.get("content", "")) for m in messages)
    inp, out = reply_usage(words, content)
    return {"content": content, "input_tokens": inp, "output_tokens": out}


def mask_key(key: str) -> str:
    """OpenAI-style masked key as it appears in a real 401 message."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def normalize_step(step) -> dict:
    """'slow:800' / 'ok' / {"kind": ..., ...} -> {"kind": ..., params}. Raises ValueError."""
    if isinstance(step, str):
        d = {"kind": step}
    elif isinstance(step, dict):
        d = dict(step)
    else:
        raise ValueError(f"step must be a string or an object, got {type(step).__name__}")
    kind = d.get("kind")
    if not isinstance(kind, str):
        raise ValueError("step needs a string 'kind'")
    if kind.startswith("slow:"):
        try:
            d["ms"] = int(kind[5:])
        except ValueError:
            raise ValueError(f"bad slow step {kind!r}") from None
        d["kind"] = kind = "slow"
    if kind not in KINDS:
        raise ValueError(f"unknown step kind {kind!r}")
    if kind == "slow":
        ms = d.get("ms")
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            raise ValueError("slow step needs an integer ms >= 0")
    return d


def _text_of(content) -> str:
    """Text of an OpenAI/Anthropic content value: a string or a list of text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for block in content:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"])
        return "\n".join(out)
    return ""


def _parts_text(obj) -> str:
    """Text of a Gemini Content ({parts: [{text}]}) or a bare string."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        parts = obj.get("parts")
        if isinstance(parts, list):
            return "\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        if isinstance(parts, dict) and isinstance(parts.get("text"), str):
            return parts["text"]
    return ""


def _retry_after(step) -> float:
    ra = step.get("retry_after", DEFAULT_RETRY_AFTER_S)
    if not isinstance(ra, (int, float)) or isinstance(ra, bool) or ra < 0:
        ra = DEFAULT_RETRY_AFTER_S
    return ra


def _fmt_seconds(ra) -> str:
    if float(ra).is_integer():
        return str(int(ra))
    return f"{ra:.3f}".rstrip("0")


def _json_bytes(obj) -> bytes:
    return json.dumps(obj).encode()


# --------------------------------------------------------------------------- shared state


class _Script:
    def __init__(self, steps, then):
        self.steps = collections.deque(steps)
        self.then = then


class FakeState:
    def __init__(self):
        self.lock = threading.Lock()
        self.scripts: dict[str, _Script] = {}
        self.requests: list[dict] = []
        self.stop_event = threading.Event()
        self.connections: set[socket.socket] = set()
        self.counter = 0
        self.seq = 0

    def set_script(self, model, steps, then="ok"):
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string")
        if steps is None:
            steps = []
        if not isinstance(steps, list):
            raise ValueError("steps must be a list")
        norm = [normalize_step(s) for s in steps]
        then_n = normalize_step(then if then is not None else "ok")
        with self.lock:
            self.scripts[model] = _Script(norm, then_n)

    def next_step(self, model) -> dict:
        with self.lock:
            script = self.scripts.get(model) or self.scripts.get("*")
            if script is None:
                return {"kind": "ok"}
            if script.steps:
                return dict(script.steps.popleft())
            return dict(script.then)

    def reset(self):
        with self.lock:
            self.scripts.clear()
            self.requests.clear()
            self.seq = 0

    def record(self, entry: dict):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)

    def update(self, entry: dict, **fields):
        with self.lock:
            entry.update(fields)

    def snapshot(self) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.requests)

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


# --------------------------------------------------------------------------- response bodies


def _openai_error(message, type_, code, param=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _anthropic_error(type_, message, req_id):
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": req_id}


def _gemini_error(code, status, message, details=None):
    err = {"code": code, "message": message, "status": status}
    if details is not None:
        err["details"] = details
    return {"error": err}


_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class Reply:
    """One HTTP answer: status, extra headers, body bytes, content type."""

    def __init__(self, status, body, headers=None, content_type="application/json"):
        self.status = status
        self.body = body if isinstance(body, bytes) else _json_bytes(body)
        self.headers = dict(headers or {})
        self.content_type = content_type


# --------------------------------------------------------------------------- request handler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-providers/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections go away eventually

    # set on the class made by make_server
    state: FakeState = None  # type: ignore[assignment]
    verbose = False

    # ---- plumbing

    def setup(self):
        super().setup()
        with self.state.lock:
            self.state.connections.add(self.connection)

    def finish(self):
        with self.state.lock:
            self.state.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("fake-providers: " + (fmt % args) + "\n")

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until blank line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)  # CRLF after the chunk
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, reply: Reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def _wait_client_gone(self, limit_s: float) -> str:
        """Block until the client closes ('client_closed'), limit_s passes ('timeout') or stop ('stopped')."""
        conn = self.connection
        end = time.monotonic() + limit_s
        while True:
            if self.state.stop_event.is_set():
                return "stopped"
            rem = end - time.monotonic()
            if rem <= 0:
                return "timeout"
            try:
                r, _, _ = select.select([conn], [], [], min(0.05, rem))
            except (OSError, ValueError):
                return "client_closed"
            if r:
                try:
                    data = conn.recv(1, socket.MSG_PEEK)
                except (BlockingIOError, socket.timeout):
                    continue
                except OSError:
                    return "client_closed"
                if not data:
                    return "client_closed"
                time.sleep(min(0.05, max(0.0, rem)))

    # ---- verbs

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        split = urlsplit(self.path)
        route = split.path
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if route.startswith("/_control/"):
            self._control(method, route, raw)
            return
        self._provider(method, route, split, raw)

    # ---- control API

    def _control(self, method, route, raw):
        st = self.state
        try:
            if route == "/_control/health" and method == "GET":
                self._send(Reply(200, {"ok": True}))
            elif route == "/_control/requests" and method == "GET":
                self._send(Reply(200, st.snapshot()))
            elif route == "/_control/reset" and method == "POST":
                st.reset()
                self._send(Reply(200, {"ok": True}))
            elif route == "/_control/script" and method == "POST":
                try:
                    spec = json.loads(raw or b"{}")
                    if not isinstance(spec, dict):
                        raise ValueError("body must be an object")
                    st.set_script(spec.get("model"), spec.get("steps", []), spec.get("then", "ok"))
                except ValueError as e:  # includes JSONDecodeError
                    self._send(Reply(400, {"ok": False, "error": str(e)}))
                    return
                self._send(Reply(200, {"ok": True}))
            else:
                self._send(Reply(404, {"ok": False, "error": f"no control route {method} {route}"}))
        except OSError:
            self.close_connection = True

    # ---- provider routes

    def _provider(self, method, route, split, raw):
        st = self.state
        flavor = _ROUTES.get(route)
        gemini_model = None
        if flavor is None:
            m = _GEMINI_ROUTE.match(route)
            if m:
                flavor = "gemini"
                gemini_model = unquote(m.group(1))
        try:
            body = json.loads(raw) if raw else None
            body_ok = raw != b""
        except ValueError:
            body, body_ok = None, False
        model = None
        if flavor == "gemini":
            model = gemini_model
        elif isinstance(body, dict) and isinstance(body.get("model"), str):
            model = body["model"]
        entry = {
            "path": self.path,
            "route": route,
            "query": parse_qs(split.query, keep_blank_values=True),
            "method": method,
            "http_version": self.request_version,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "flavor": flavor,
            "model": model,
            "kind": None,
            "ts": time.time(),
        }
        if not body_ok:
            entry["raw_body"] = raw.decode("utf-8", "replace")
        st.record(entry)
        try:
            self._answer(method, flavor, model, body, body_ok, entry)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True
        except OSError:
            self.close_connection = True

    def _answer(self, method, flavor, model, body, body_ok, entry):
        st = self.state
        if flavor is None:
            self._send(Reply(404, _openai_error(f"Invalid URL ({method} {entry['route']})", "invalid_request_error", None)))
            return
        if method != "POST":
            self._send(self._error_reply(flavor, 405, f"Method {method} not allowed", model))
            return
        if not body_ok or not isinstance(body, dict):
            self._send(self._error_reply(flavor, 400, "We could not parse the JSON body of your request.", model))
            return
        auth = self._check_auth(flavor, entry)
        if auth is not None:
            st.update(entry, kind="auth_missing")
            self._send(auth)
            return
        invalid = self._validate(flavor, body, entry)
        if invalid is not None:
            st.update(entry, kind="invalid_request")
            self._send(invalid)
            return

        step = st.next_step(model)
        kind = step["kind"]
        st.update(entry, kind=kind)

        if kind == "hang":
            end = self._wait_client_gone(HANG_LIMIT_S)
            st.update(entry, ended=end)
            self.close_connection = True
            return
        if kind == "slow":
            end = self._wait_client_gone(step["ms"] / 1000.0)
            if end != "timeout":
                st.update(entry, ended=end)
                self.close_connection = True
                return
            st.update(entry, ended="answered")
            self._send(self._ok_reply(flavor, model, body, step))
            return
        if kind == "stall_body":
            reply = self._ok_reply(flavor, model, body, step)
            self.send_response(200)
            self.send_header("Content-Type", reply.content_type)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body[: max(1, len(reply.body) // 3)])
            self.wfile.flush()
            end = self._wait_client_gone(HANG_LIMIT_S)
            st.update(entry, ended=end)
            self.close_connection = True
            return
        if kind == "ok":
            self._send(self._ok_reply(flavor, model, body, step))
            return
        self._send(self._kind_reply(flavor, kind, model, body, step, entry))

    # ---- auth presence (values are not checked; tests read them from /_control/requests)

    def _check_auth(self, flavor, entry):
        h = entry["headers"]
        if flavor == "openai":
            a = h.get("authorization", "")
            if not a.startswith("Bearer ") or not a[7:].strip():
                return Reply(
                    401,
                    _openai_error(
                        "You didn't provide an API key. You need to provide your API key in an Authorization header "
                        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
                        "username) if you're accessing the API from your browser and are prompted for a username and "
                        "password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
                        "invalid_request_error",
                        None,
                    ),
                )
        elif flavor == "anthropic":
            if not h.get("x-api-key", "").strip():
                rid = self._req_id()
                return Reply(
                    401,
                    _anthropic_error("authentication_error", "x-api-key header is required", rid),
                    {"request-id": rid},
                )
        elif flavor == "gemini":
            if not h.get("x-goog-api-key", "").strip() and not entry["query"].get("key"):
                return Reply(
                    403,
                    _gemini_error(
                        403,
                        "PERMISSION_DENIED",
                        "Method doesn't allow unregistered callers (callers without established identity). "
                        "Please use API Key or other form of API consumer identity to call this API.",
                    ),
                    content_type="application/json; charset=UTF-8",
                )
        return None  # compat: local servers often need no key

    # ---- request validation (the real APIs reject these)

    def _validate(self, flavor, body, entry):
        if flavor in ("openai", "compat"):
            if not isinstance(body.get("model"), str) or not body["model"]:
                return Reply(400, _openai_error("you must provide a model parameter", "invalid_request_error", None))
            msgs = body.get("messages")
            if not isinstance(msgs, list):
                return Reply(
                    400,
                    _openai_error(
                        "Missing required parameter: 'messages'.", "invalid_request_error",
                        "missing_required_parameter", "messages",
                    ),
                )
            if not msgs:
                return Reply(
                    400,
                    _openai_error(
                        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                        "array instead.", "invalid_request_error", "empty_array", "messages",
                    ),
                )
            for i, m in enumerate(msgs):
                role = m.get("role") if isinstance(m, dict) else None
                if role not in ("system", "developer", "user", "assistant", "tool", "function"):
                    return Reply(
                        400,
                        _openai_error(
                            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                            "'function', 'tool', and 'developer'.",
                            "invalid_request_error", "invalid_value", f"messages[{i}].role",
                        ),
                    )
            return None
        if flavor == "anthropic":
            rid = self._req_id()
            if not entry["headers"].get("anthropic-version"):
                return Reply(
                    400, _anthropic_error("invalid_request_error", "anthropic-version: header is required", rid),
                    {"request-id": rid},
                )
            if not isinstance(body.get("model"), str) or not body["model"]:
                return Reply(400, _anthropic_error("invalid_request_error", "model: Field required", rid),
                             {"request-id": rid})
            mt = body.get("max_tokens")
            if mt is None:
                return Reply(400, _anthropic_error("invalid_request_error", "max_tokens: Field required", rid),
                             {"request-id": rid})
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
                return Reply(
                    400,
                    _anthropic_error("invalid_request_error", "max_tokens: Input should be a valid integer", rid),
                    {"request-id": rid},
                )
            msgs = body.get("messages")
            if not isinstance(msgs, list) or not msgs:
                return Reply(
                    400,
                    _anthropic_error("invalid_request_error", "messages: at least one message is required", rid),
                    {"request-id": rid},
                )
            for i, m in enumerate(msgs):
                role = m.get("role") if isinstance(m, dict) else None
                if role == "system":
                    return Reply(
                        400,
                        _anthropic_error(
                            "invalid_request_error",
                            'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                            'parameter, not "system" as an input message role.',
                            rid,
                        ),
                        {"request-id": rid},
                    )
                if role not in ("user", "assistant"):
                    return Reply(
                        400,
                        _anthropic_error(
                            "invalid_request_error", f"messages.{i}.role: Input should be 'user' or 'assistant'", rid
                        ),
                        {"request-id": rid},
                    )
            return None
        if flavor == "gemini":
            contents = body.get("contents")
            if not isinstance(contents, list) or not contents:
                return Reply(
                    400,
                    _gemini_error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"),
                    content_type="application/json; charset=UTF-8",
                )
            for i, c in enumerate(contents):
                if not isinstance(c, dict):
                    return Reply(400, _gemini_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."),
                                 content_type="application/json; charset=UTF-8")
                role = c.get("role")
                if role is not None and role not in ("user", "model"):
                    return Reply(
                        400, _gemini_error(400, "INVALID_ARGUMENT", "Please use a valid role: user, model."),
                        content_type="application/json; charset=UTF-8",
                    )
                parts = c.get("parts")
                if not isinstance(parts, list) or not parts:
                    return Reply(
                        400,
                        _gemini_error(
                            400, "INVALID_ARGUMENT",
                            f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n",
                        ),
                        content_type="application/json; charset=UTF-8",
                    )
            return None
        return None

    # ---- bodies

    def _req_id(self) -> str:
        return f"req_fake{self.state.next_id():06d}"

    @staticmethod
    def _conversation(flavor, body):
        """(all text words, last user text) of a validated request body."""
        words = 0
        last_user = ""
        if flavor in ("openai", "compat"):
            for m in body.get("messages", []):
                t = _text_of(m.get("content"))
                words += word_count(t)
                if m.get("role") == "user":
                    last_user = t
        elif flavor == "anthropic":
            words += word_count(_text_of(body.get("system")))
            for m in body.get("messages", []):
                t = _text_of(m.get("content"))
                words += word_count(t)
                if m.get("role") == "user":
                    last_user = t
        elif flavor == "gemini":
            si = body.get("systemInstruction", body.get("system_instruction"))
            words += word_count(_parts_text(si))
            for c in body.get("contents", []):
                t = _parts_text(c)
                words += word_count(t)
                if c.get("role", "user") == "user":
                    last_user = t
        return words, last_user

    def _ok_reply(self, flavor, model, body, step) -> Reply:
        words, last_user = self._conversation(flavor, body)
        content = step.get("content")
        if not isinstance(content, str):
            content = reply_text(flavor, model, last_user)
        inp, out = reply_usage(words, content)
        if isinstance(step.get("input_tokens"), int):
            inp = step["input_tokens"]
        if isinstance(step.get("output_tokens"), int):
            out = step["output_tokens"]
        n = self.state.next_id()
        if flavor in ("openai", "compat"):
            return Reply(
                200,
                {
                    "id": f"chatcmpl-fake{n:06d}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": inp,
                        "completion_tokens": out,
                        "total_tokens": inp + out,
                        "prompt_tokens_details": {"cached_tokens": 0},
                    },
                    "system_fingerprint": "fp_fake",
                },
                {"x-request-id": f"req_fake{n:06d}", "openai-processing-ms": "1"},
            )
        if flavor == "anthropic":
            rid = f"req_fake{n:06d}"
            return Reply(
                200,
                {
                    "id": f"msg_fake{n:06d}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": content}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": inp,
                        "output_tokens": out,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                },
                {"request-id": rid},
            )
        # gemini
        return Reply(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": content}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": inp,
                    "candidatesTokenCount": out,
                    "totalTokenCount": inp + out,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": inp}],
                },
                "modelVersion": model,
                "responseId": f"fake{n:06d}",
            },
            content_type="application/json; charset=UTF-8",
        )

    def _error_reply(self, flavor, status, message, model) -> Reply:
        """A generic error in the flavor's shape (used for protocol problems, not for script kinds)."""
        if flavor == "anthropic":
            rid = self._req_id()
            t = {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
            return Reply(status, _anthropic_error(t, message, rid), {"request-id": rid})
        if flavor == "gemini":
            s = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "INVALID_ARGUMENT"}.get(status, "INTERNAL")
            return Reply(status, _gemini_error(status, s, message), content_type="application/json; charset=UTF-8")
        return Reply(status, _openai_error(message, "invalid_request_error", None))

    def _kind_reply(self, flavor, kind, model, body, step, entry) -> Reply:
        if kind == "gateway":
            return Reply(502, _GATEWAY_HTML, content_type="text/html")
        if kind == "malformed":
            if flavor == "gemini":
                text = b'{\n  "candidates": [\n    {\n      "content": {\n        "parts": [\n          {\n            "text": "trunc'
                return Reply(200, text, content_type="application/json; charset=UTF-8")
            if flavor == "anthropic":
                return Reply(200, b'{"id": "msg_fake", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "trunc',
                             {"request-id": self._req_id()})
            return Reply(200, b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "trunc')
        words, _ = self._conversation(flavor, body)
        inp = max(1, words)
        if flavor in ("openai", "compat"):
            return self._openai_kind(flavor, kind, model, entry, inp, step)
        if flavor == "anthropic":
            return self._anthropic_kind(kind, model, inp, step)
        return self._gemini_kind(kind, model, entry, inp, step)

    def _openai_kind(self, flavor, kind, model, entry, inp, step) -> Reply:
        n = self.state.next_id()
        hdrs = {"x-request-id": f"req_fake{n:06d}"}
        if kind == "rate_limited":
            step_ra = _retry_after(step)
            ra = _fmt_seconds(step_ra)
            hdrs.update(
                {
                    "retry-after": ra,
                    "retry-after-ms": str(int(step_ra * 1000)),
                    "x-ratelimit-limit-requests": "500",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{ra}s",
                }
            )
            return Reply(
                429,
                _openai_error(
                    f"Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 500, "
                    f"Used 500, Requested 1. Please try again in {ra}s. Visit "
                    "https://platform.openai.com/account/rate-limits to learn more.",
                    "requests",
                    "rate_limit_exceeded",
                ),
                hdrs,
            )
        if kind == "server_error":
            return Reply(
                500,
                _openai_error(
                    "The server had an error while processing your request. Sorry about that!", "server_error", None
                ),
                hdrs,
            )
        if kind in ("unavailable", "overloaded"):
            return Reply(
                503,
                _openai_error("The engine is currently overloaded, please try again later.", "server_error", None),
                hdrs,
            )
        if kind in ("auth", "invalid_key"):
            key = entry["headers"].get("authorization", "")[7:].strip()
            return Reply(
                401,
                _openai_error(
                    f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
                hdrs,
            )
        if kind in ("forbidden", "suspended"):
            return Reply(
                403,
                _openai_error(
                    "Country, region, or territory not supported", "request_forbidden",
                    "unsupported_country_region_territory",
                ),
                hdrs,
            )
        if kind == "bad_request":
            return Reply(
                400,
                _openai_error(
                    "Invalid type for 'temperature': expected a decimal, but got a string instead.",
                    "invalid_request_error", "invalid_type", "temperature",
                ),
                hdrs,
            )
        if kind == "not_found":
            return Reply(
                404,
                _openai_error(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error", "model_not_found",
                ),
                hdrs,
            )
        if kind == "context_length":
            return Reply(
                400,
                _openai_error(
                    "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                    "130412 tokens. Please reduce the length of the messages.",
                    "invalid_request_error", "context_length_exceeded", "messages",
                ),
                hdrs,
            )
        if kind == "content_filter":
            if flavor == "compat":  # Azure OpenAI style
                return Reply(
                    400,
                    {
                        "error": {
                            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                            "management policy. Please modify your prompt and retry.",
                            "type": None,
                            "param": "prompt",
                            "code": "content_filter",
                            "status": 400,
                            "innererror": {
                                "code": "ResponsibleAIPolicyViolation",
                                "content_filter_result": {
                                    "hate": {"filtered": False, "severity": "safe"},
                                    "violence": {"filtered": True, "severity": "high"},
                                },
                            },
                        }
                    },
                    hdrs,
                )
            return Reply(
                400,
                _openai_error(
                    "Your request was rejected as a result of our safety system. Your prompt may contain text that "
                    "is not allowed by our safety system.",
                    "invalid_request_error", "content_policy_violation",
                ),
                hdrs,
            )
        if kind == "safety_stop":
            return Reply(
                200,
                {
                    "id": f"chatcmpl-fake{n:06d}", "object": "chat.completion", "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": None},
                                 "finish_reason": "content_filter"}],
                    "usage": {"prompt_tokens": inp, "completion_tokens": 0, "total_tokens": inp},
                },
                hdrs,
            )
        if kind == "empty":
            return Reply(
                200,
                {
                    "id": f"chatcmpl-fake{n:06d}", "object": "chat.completion", "created": int(time.time()),
                    "model": model, "choices": [],
                    "usage": {"prompt_tokens": inp, "completion_tokens": 0, "total_tokens": inp},
                },
                hdrs,
            )
        if kind == "error_in_200":
            return Reply(200, _openai_error("upstream model crashed", "server_error", None), hdrs)
        raise AssertionError(f"unhandled kind {kind}")

    def _anthropic_kind(self, kind, model, inp, step) -> Reply:
        rid = self._req_id()
        hdrs = {"request-id": rid}

        def err(status, t, msg, extra=None):
            h = dict(hdrs)
            h.update(extra or {})
            return Reply(status, _anthropic_error(t, msg, rid), h)

        if kind == "rate_limited":
            ra_s = _retry_after(step)
            ra = _fmt_seconds(ra_s)
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ra_s))
            return err(
                429, "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit "
                "(https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. "
                "Please reduce the prompt length or the maximum tokens requested, or try again later.",
                {
                    "retry-after": ra,
                    "anthropic-ratelimit-requests-limit": "50",
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": reset,
                },
            )
        if kind == "server_error":
            return err(500, "api_error", "Internal server error")
        if kind == "unavailable":
            return err(503, "api_error", "Service unavailable")
        if kind == "overloaded":
            return err(529, "overloaded_error", "Overloaded")
        if kind in ("auth", "invalid_key"):
            return err(401, "authentication_error", "invalid x-api-key")
        if kind in ("forbidden", "suspended"):
            return err(403, "permission_error", "Your API key does not have permission to use the specified resource.")
        if kind == "bad_request":
            return err(400, "invalid_request_error", "messages: text content blocks must be non-empty")
        if kind == "not_found":
            return err(404, "not_found_error", f"model: {model}")
        if kind == "context_length":
            return err(400, "invalid_request_error", "prompt is too long: 215342 tokens > 200000 maximum")
        if kind == "content_filter":
            return err(400, "invalid_request_error", "Output blocked by content filtering policy")
        usage = {"input_tokens": inp, "output_tokens": 0}
        if kind == "safety_stop":
            return Reply(
                200,
                {"id": f"msg_{rid}", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": "refusal", "stop_sequence": None, "usage": usage},
                hdrs,
            )
        if kind == "empty":
            return Reply(
                200,
                {"id": f"msg_{rid}", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": "end_turn", "stop_sequence": None, "usage": usage},
                hdrs,
            )
        if kind == "error_in_200":
            return Reply(200, _anthropic_error("api_error", "upstream model crashed", rid), hdrs)
        raise AssertionError(f"unhandled kind {kind}")

    def _gemini_kind(self, kind, model, entry, inp, step) -> Reply:
        ct = "application/json; charset=UTF-8"

        def err(code, status, msg, details=None):
            return Reply(code, _gemini_error(code, status, msg, details), content_type=ct)

        if kind == "rate_limited":
            ra = _fmt_seconds(_retry_after(step))
            return err(
                429, "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                                "quotaDimensions": {"location": "global", "model": model},
                                "quotaValue": "15",
                            }
                        ],
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.Help",
                        "links": [
                            {
                                "description": "Learn more about Gemini API quotas",
                                "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{ra}s"},
                ],
            )
        if kind == "server_error":
            return err(
                500, "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            )
        if kind in ("unavailable", "overloaded"):
            return err(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        if kind == "auth":
            return err(
                401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                  "domain": "googleapis.com"}],
            )
        if kind == "invalid_key":
            return err(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        if kind == "forbidden":
            return err(
                403, "PERMISSION_DENIED",
                "Generative Language API has not been used in project 000000000000 before or it is disabled.",
            )
        if kind == "suspended":
            key = entry["headers"].get("x-goog-api-key", "")
            return err(
                403, "PERMISSION_DENIED",
                f"Permission denied: Consumer 'api_key:{key}' has been suspended.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "CONSUMER_SUSPENDED",
                        "domain": "googleapis.com",
                        "metadata": {"consumer": f"projects/api_key:{key}",
                                     "service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        if kind == "bad_request":
            return err(
                400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"description": 'Invalid JSON payload received. Unknown name "foo"'}],
                    }
                ],
            )
        if kind == "not_found":
            return err(
                404, "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.",
            )
        if kind == "context_length":
            return err(
                400, "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            )
        usage = {"promptTokenCount": inp, "totalTokenCount": inp}
        if kind == "content_filter":
            return Reply(
                200,
                {
                    "promptFeedback": {
                        "blockReason": "SAFETY",
                        "safetyRatings": [
                            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
                            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                        ],
                    },
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "safety_stop":
            return Reply(
                200,
                {
                    "candidates": [
                        {
                            "finishReason": "SAFETY",
                            "index": 0,
                            "safetyRatings": [
                                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH",
                                 "blocked": True}
                            ],
                        }
                    ],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "empty":
            return Reply(
                200,
                {
                    "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "error_in_200":
            return Reply(200, _gemini_error(500, "INTERNAL", "upstream model crashed"), content_type=ct)
        raise AssertionError(f"unhandled kind {kind}")



# --------------------------------------------------------------------------- server + API


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(host="127.0.0.1", port=0, verbose=False):
    state = FakeState()
    handler = type("BoundHandler", (Handler,), {"state": state, "verbose": verbose})
    server = _Server((host, port), handler)
    return server, state


class FakeProviders:
    """An in-process fake provider server on a background thread."""

    def __init__(self, host="127.0.0.1", port=0, verbose=False):
        self._server, self._state = make_server(host, port, verbose)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-providers", daemon=True
        )
        self._thread.start()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, kind: str) -> str:
        """openai | openai-compatible (or compat) | anthropic | gemini -> base_url for the daemon's config."""
        try:
            return self.url + BASE_PATHS[kind]
        except KeyError:
            raise ValueError(f"unknown provider kind {kind!r}") from None

    def script(self, model: str, steps=(), then="ok"):
        self._state.set_script(model, list(steps), then)

    def requests(self, model: str | None = None, flavor: str | None = None) -> list[dict]:
        out = self._state.snapshot()
        if model is not None:
            out = [r for r in out if r.get("model") == model]
        if flavor is not None:
            out = [r for r in out if r.get("flavor") == flavor]
        return out

    def reset(self):
        self._state.reset()

    def stop(self):
        if self._stopped:
            return
        self._stopped = True
        self._state.stop_event.set()
        self._server.shutdown()
        with self._state.lock:
            conns = list(self._state.connections)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_fake_providers(host="127.0.0.1", port=0, verbose=False) -> FakeProviders:
    return FakeProviders(host, port, verbose)


class RemoteFakeProviders:
    """The FakeProviders API over the control routes of a server run as a script."""

    def __init__(self, port: int, host="127.0.0.1", timeout=10.0):
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, kind: str) -> str:
        try:
            return self.url + BASE_PATHS[kind]
        except KeyError:
            raise ValueError(f"unknown provider kind {kind!r}") from None

    def _call(self, method, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def script(self, model, steps=(), then="ok"):
        return self._call("POST", "/_control/script", {"model": model, "steps": list(steps), "then": then})

    def requests(self, model=None, flavor=None):
        out = self._call("GET", "/_control/requests")
        if model is not None:
            out = [r for r in out if r.get("model") == model]
        if flavor is not None:
            out = [r for r in out if r.get("flavor") == flavor]
        return out

    def reset(self):
        return self._call("POST", "/_control/reset", {})

    def stop(self):  # the process owner stops it
        pass


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
