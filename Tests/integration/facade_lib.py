"""Shared helpers of the OpenAI-compatible HTTP facade tests (test_facade_openai.py, test_facade_http.py,
test_metrics.py): config mutators, the HTTP socket and TCP address from `status`, the official `openai` SDK
pointed at either, raw HTTP/1.1 over the Unix socket, and /metrics parsing.

The `openai` package is used unchanged. Its HTTP library is httpx (openai 1.x) or httpx2 (openai 3.x):
``httpx_module()`` picks the one the installed SDK is built on, so the transport we hand it is its own kind.
A missing package is a test failure, never a skip.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import socket
import time

import pytest


MSGS = [{"role": "user", "content": "Tell me about the water cycle"}]
SDK_TIMEOUT = 60.0  # generous bound for a loaded machine; never a measurement
TOKEN = "fbd-test-token-9f8e7d"
TOKEN_ENV = "FBD_FACADE_TOKEN"


# --------------------------------------------------------------------------- imports that must not skip


def openai_module():
    try:
        return importlib.import_module("openai")
    except ImportError as e:
        pytest.fail(f"the official `openai` package is not importable ({e}); install it with "
                    f"`python3 -m pip install openai`", pytrace=False)


def httpx_module():
    """The HTTP library (httpx or httpx2) the installed openai SDK is built on."""
    openai = openai_module()
    for cls in getattr(openai, "DefaultHttpxClient").__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    pytest.fail(f"cannot tell which HTTP library openai {openai.__version__} uses "
                f"(DefaultHttpxClient bases: {openai.DefaultHttpxClient.__mro__})", pytrace=False)


def prometheus_parser():
    try:
        return importlib.import_module("prometheus_client.parser")
    except ImportError as e:
        pytest.fail(f"prometheus_client is not importable ({e}); install it with "
                    f"`python3 -m pip install prometheus_client`", pytrace=False)


# --------------------------------------------------------------------------- config


def facade(**keys):
    """cfg_mutate: set keys of the [facade] table."""
    def mutate(cfg):
        cfg.setdefault("facade", {}).update(keys)
        return cfg
    return mutate


TCP = facade(listen="127.0.0.1:0")
TOKEN_TCP = facade(listen="127.0.0.1:0", token_env=TOKEN_ENV)
TOKEN_ENV_EXTRA = {TOKEN_ENV: TOKEN}


# --------------------------------------------------------------------------- where the facade is


def http_socket(daemon) -> str:
    path = daemon.call("status").get("http_socket")
    assert isinstance(path, str) and path, f"status has no http_socket: {daemon.call('status')}"
    return path


def tcp_address(daemon) -> str:
    """The bound "host:port" (from status.http_listen) of a daemon configured with [facade] listen."""
    addr = daemon.call("status").get("http_listen")
    assert isinstance(addr, str) and addr.rsplit(":", 1)[-1].isdigit() and not addr.endswith(":0"), \
        f"status.http_listen is not a bound host:port: {addr!r}"
    return addr


class Clients:
    """HTTP and SDK clients made by a test, closed at teardown (before the daemon is stopped)."""

    def __init__(self):
        self._open = []

    def _keep(self, c):
        self._open.append(c)
        return c

    def close(self):
        for c in reversed(self._open):
            with contextlib.suppress(Exception):
                c.close()
        self._open.clear()

    # -- plain HTTP

    def uds(self, daemon, **kw):
        """An httpx(2).Client on the daemon's HTTP Unix socket; base_url http://localhost."""
        hx = httpx_module()
        return self._keep(hx.Client(transport=hx.HTTPTransport(uds=http_socket(daemon)), base_url="http://localhost",
                                    timeout=SDK_TIMEOUT, trust_env=False, **kw))

    def tcp(self, daemon, **kw):
        hx = httpx_module()
        return self._keep(hx.Client(base_url=f"http://{tcp_address(daemon)}", timeout=SDK_TIMEOUT, trust_env=False,
                                    **kw))

    # -- the official SDK

    def sdk(self, daemon, tcp=False, api_key="unused"):
        """openai.OpenAI on the HTTP Unix socket (or the TCP address), max_retries=0 so statuses show."""
        openai, hx = openai_module(), httpx_module()
        if tcp:
            http = hx.Client(timeout=SDK_TIMEOUT, trust_env=False)
            base = f"http://{tcp_address(daemon)}/v1"
        else:
            http = hx.Client(transport=hx.HTTPTransport(uds=http_socket(daemon)), timeout=SDK_TIMEOUT,
                             trust_env=False)
            base = "http://localhost/v1"
        self._keep(http)
        c = openai.OpenAI(base_url=base, api_key=api_key, http_client=http, timeout=SDK_TIMEOUT)
        self._keep(c)
        return c.with_options(max_retries=0)


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


def fallbackd_of(obj) -> dict:
    """The `fallbackd` member of an SDK response object (pydantic keeps unknown members)."""
    extra = getattr(obj, "model_extra", None) or {}
    got = extra.get("fallbackd", getattr(obj, "fallbackd", None))
    assert isinstance(got, dict), f"no `fallbackd` member in {obj!r}"
    return got


# --------------------------------------------------------------------------- raw HTTP/1.1 on the Unix socket


class RawResponse:
    def __init__(self, status: int, reason: str, headers: dict, body: bytes, chunked: bool, terminated: bool,
                 closed: bool):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case names -> value (last one wins)
        self.body = body  # de-chunked payload
        self.chunked = chunked
        self.terminated = terminated  # the body ended as framed (zero chunk / full Content-Length)
        self.closed = closed  # the peer closed the connection

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"RawResponse({self.status} {self.reason}, headers={self.headers}, body={self.body[:400]!r}, "
                f"chunked={self.chunked}, terminated={self.terminated}, closed={self.closed})")


def _read_until(sock, buf: bytearray, pred, deadline: float) -> bool:
    """recv into buf until pred(buf) or EOF; True on EOF/reset. Fails after the deadline."""
    while not pred(buf):
        rem = deadline - time.monotonic()
        assert rem > 0, f"no complete HTTP response before the deadline; have {bytes(buf[:600])!r}"
        sock.settimeout(rem)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True
        buf += chunk
    return False


def _dechunk(data: bytes):
    """(payload, terminated) of a chunked body that may be cut anywhere."""
    out, i = bytearray(), 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return bytes(out), False
        size = int(data[i:j].split(b";")[0], 16)
        if size == 0:
            return bytes(out), data.find(b"\r\n", j + 2) >= 0
        if len(data) < j + 2 + size + 2:
            out += data[j + 2: j + 2 + size]
            return bytes(out), False
        out += data[j + 2: j + 2 + size]
        i = j + 2 + size + 2


def raw_request(path_or_sock, method: str, target: str, body: bytes | None = None, headers=None,
                timeout: float = SDK_TIMEOUT) -> RawResponse:
    """One HTTP/1.1 request with `Connection: close` on a fresh Unix-socket connection; reads to EOF."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path_or_sock)
        send_request(s, method, target, body, headers, close=True)
        return read_response(s, timeout=timeout, to_eof=True)
    finally:
        s.close()


def send_request(sock, method: str, target: str, body: bytes | None = None, headers=None, close: bool = False):
    hdrs = {"Host": "localhost"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
        hdrs["Content-Length"] = str(len(body))
    if close:
        hdrs["Connection"] = "close"
    hdrs.update(headers or {})
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    sock.sendall(head.encode() + (body or b""))


def read_response(sock, timeout: float = SDK_TIMEOUT, to_eof: bool = False) -> RawResponse:
    """Read one response. to_eof: keep reading until the peer closes (for Connection: close / cut streams)."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    closed = _read_until(sock, buf, lambda b: b"\r\n\r\n" in b, deadline)
    assert b"\r\n\r\n" in buf, f"connection closed before the response head: {bytes(buf)!r}"
    head, rest = bytes(buf).split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = bytearray(rest)
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    if chunked:
        if not closed:
            closed = _read_until(sock, body, lambda b: _dechunk(bytes(b))[1], deadline)
        if to_eof and not closed:
            closed = _read_until(sock, body, lambda b: False, deadline)
        payload, terminated = _dechunk(bytes(body))
    else:
        n = int(headers.get("content-length", "0"))
        if not closed:
            closed = _read_until(sock, body, lambda b: len(b) >= n, deadline)
        if to_eof and not closed:
            closed = _read_until(sock, body, lambda b: False, deadline)
        payload, terminated = bytes(body[:n]), len(body) >= n
    return RawResponse(int(status), reason, headers, payload, chunked, terminated, closed)


def sse_events(payload: bytes) -> list[dict]:
    """The events of an SSE body: [{"event": name or None, "data": text}] (multi-line data joined by "\n")."""
    events, cur = [], {"event": None, "data": []}
    for line in payload.decode("utf-8").split("\n"):
        line = line.rstrip("\r")
        if line == "":
            if cur["data"] or cur["event"]:
                events.append({"event": cur["event"], "data": "\n".join(cur["data"])})
            cur = {"event": None, "data": []}
            continue
        if line.startswith(":"):
            continue
        k, _, v = line.partition(":")
        v = v[1:] if v.startswith(" ") else v
        if k == "event":
            cur["event"] = v
        elif k == "data":
            cur["data"].append(v)
    if cur["data"] or cur["event"]:
        events.append({"event": cur["event"], "data": "\n".join(cur["data"]), "unterminated": True})
    return events


def chat_body(model="default", messages=MSGS, **extra) -> bytes:
    return json.dumps({"model": model, "messages": messages, **extra}).encode()


# --------------------------------------------------------------------------- /metrics


def metrics_text(daemon) -> str:
    r = raw_request(http_socket(daemon), "GET", "/metrics")
    assert r.status == 200, r
    ctype = r.headers.get("content-type", "")
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, f"not the Prometheus text format: {ctype!r}"
    return r.body.decode("utf-8")


def metric_families(daemon) -> dict:
    """{family name: Metric} parsed by prometheus_client (a parse error fails the test)."""
    text = metrics_text(daemon)
    parser = prometheus_parser()
    fams = {}
    for fam in parser.text_string_to_metric_families(text):
        assert fam.name not in fams, f"family {fam.name} appears twice"
        fams[fam.name] = fam
    return fams


def samples(fams: dict, family: str, sample_name: str | None = None, **labels) -> list:
    """Samples of `family` (named `sample_name`, default the family's own name for counters/gauges: see
    prometheus_client: counters are reported as <name>_total) whose labels include `labels`."""
    fam = fams.get(family)
    if fam is None:
        return []
    out = []
    for s in fam.samples:
        if sample_name is not None and s.name != sample_name:
            continue
        if all(s.labels.get(k) == v for k, v in labels.items()):
            out.append(s)
    return out


def value(fams: dict, family: str, sample_name: str, **labels) -> float:
    """The value of the one sample matching; 0 when the series does not exist (a counter never incremented)."""
    got = [s for s in samples(fams, family, sample_name) if s.labels == labels]
    assert len(got) <= 1, f"{sample_name}{labels}: {len(got)} samples"
    return got[0].value if got else 0.0
