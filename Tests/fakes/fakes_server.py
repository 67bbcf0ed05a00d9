"""The fake providers' HTTP request handler (plumbing, control API, provider routing) and server."""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from fakes_answers import wants_stream
from fakes_anthropic import AnthropicKindsMixin
from fakes_bodies import BodiesMixin
from fakes_common import _GEMINI_ROUTE, _GEMINI_STREAM_ROUTE, _ROUTES, Reply, _openai_error
from fakes_dispatch import DispatchMixin
from fakes_errors import ExtraErrorsMixin
from fakes_gemini import GeminiKindsMixin
from fakes_openai import OpenAIKindsMixin
from fakes_requests import RequestChecksMixin
from fakes_state import FakeState
from fakes_stream import StreamMixin


class Handler(DispatchMixin, StreamMixin, ExtraErrorsMixin, RequestChecksMixin, BodiesMixin, OpenAIKindsMixin,
              AnthropicKindsMixin, GeminiKindsMixin, BaseHTTPRequestHandler):
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

    def _wait_client_gone(self, limit_s: float, released=None) -> str:
        """Block until the client closes ('client_closed'), limit_s passes ('timeout'), stop ('stopped'), or
        released() is true ('released'). poll(), not select(): select() fails for descriptors >= 1024, and a
        test holding 1,000 calls at once would see its newest calls closed under the daemon."""
        conn = self.connection
        end = time.monotonic() + limit_s
        poller = select.poll()
        poller.register(conn, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            if self.state.stop_event.is_set():
                return "stopped"
            if released is not None and released():
                return "released"
            rem = end - time.monotonic()
            if rem <= 0:
                return "timeout"
            try:
                events = poller.poll(max(1, int(min(0.05, rem) * 1000)))
            except OSError:
                return "client_closed"
            if events:
                try:
                    data = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError, socket.timeout):
                    continue
                except OSError:
                    return "client_closed"
                if not data:
                    return "client_closed"
                # The client sent more (pipelining): nothing to read here; look again shortly.
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
            elif route == "/_control/release" and method == "POST":
                try:
                    spec = json.loads(raw or b"{}")
                    if not isinstance(spec, dict):
                        raise ValueError("body must be an object")
                    st.release(spec.get("model"))
                except ValueError as e:
                    self._send(Reply(400, {"ok": False, "error": str(e)}))
                    return
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
        self.route_stream = False
        if flavor is None:
            m = _GEMINI_ROUTE.match(route)
            ms = None if m else _GEMINI_STREAM_ROUTE.match(route)
            if m or ms:
                flavor = "gemini"
                gemini_model = unquote((m or ms).group(1))
                self.route_stream = ms is not None
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
            "stream": False,  # true once the fake answers (or faults) an SSE stream
            "ts": time.time(),
        }
        entry["stream_requested"] = flavor is not None and wants_stream(flavor, body, self.route_stream, entry["query"])
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
        self._run_kind(flavor, model, body, step, entry, kind, entry["stream_requested"])


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Room for a burst of a thousand connections (the reload-under-load test holds 1,000 calls at once).
    request_queue_size = 4096


def make_server(host="127.0.0.1", port=0, verbose=False):
    state = FakeState()
    handler = type("BoundHandler", (Handler,), {"state": state, "verbose": verbose})
    server = _Server((host, port), handler)
    return server, state
