"""FallbackClient.openai(): the official `openai` SDK wired to the daemon's HTTP Unix socket.

The JSON-RPC side is the in-process fake daemon (tests/fake_daemon.py) whose `status` names an HTTP socket;
behind that socket runs a tiny stdlib HTTP server recording what the SDK sends. So these tests prove the
returned client really goes to the socket `status` names (and nowhere else), with the placeholder key, and
that the helper's error paths say what is wrong. The real daemon is exercised by
Tests/integration/test_facade_openai.py::test_python_client_openai_helper.
"""

import http.server
import json
import os
import socketserver
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import WAIT  # noqa: E402
from fallbackd_client import FallbackClient  # noqa: E402
from fallbackd_client.openai_facade import PLACEHOLDER_API_KEY  # noqa: E402

COMPLETION = {
    "id": "chatcmpl-r-1", "object": "chat.completion", "created": 1700000000, "model": "claude-3-5-sonnet",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "refusal": None},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8},
    "fallbackd": {"request_id": "r-1", "fallback_count": 1, "model": "claude-3-5-sonnet"},
}
MSGS = [{"role": "user", "content": "Capital of France?"}]


def _openai():
    try:
        import openai
    except ImportError as e:  # a missing package fails: a run that tested nothing must not pass
        pytest.fail(f"these tests need the `openai` package (pip install openai): {e}", pytrace=False)
    return openai


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeFacade:
    """An HTTP/1.1 server on a Unix socket answering like fallbackd's facade; records every request."""

    def __init__(self, path):
        self.path = path
        self.seen = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # client_address is "" on a Unix socket
                pass

            def _reply(self, status, obj, headers=()):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _record(self, body):
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen.append({"method": self.command, "path": self.path, "headers": headers, "body": body})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n))
                self._record(body)
                if body.get("model") == "nope":
                    self._reply(404, {"error": {"message": "no such model", "type": "invalid_request_error",
                                                "param": "model", "code": "model_not_found"}})
                else:
                    self._reply(200, COMPLETION, [("x-fallbackd-fallbacks", "1")])

            def do_GET(self):
                self._record(None)
                self._reply(200, {"object": "list", "data": [
                    {"id": "fallbackd/default", "object": "model", "created": 0, "owned_by": "fallbackd"}]})

        self.server = _UnixHTTPServer(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(WAIT)


@pytest.fixture
def facade(sockdir, server):
    f = FakeFacade(os.path.join(sockdir, "fallbackd-http.sock"))
    server.methods["status"] = lambda params: {"version": "0.1.0", "in_flight": 0, "http_socket": f.path,
                                               "http_listen": None}
    yield f
    f.stop()


def _methods(server):
    return [r["method"] for r in server.requests()]


def test_openai_client_talks_to_the_socket_status_names(client, server, facade):
    openai = _openai()
    oai = client.openai(max_retries=0, timeout=WAIT)
    try:
        assert isinstance(oai, openai.OpenAI)
        r = oai.chat.completions.create(model="default", messages=MSGS, extra_body={"timeout_ms": 5000})
        assert r.model == "claude-3-5-sonnet" and r.choices[0].message.content == "Paris."
        assert r.model_extra["fallbackd"]["fallback_count"] == 1
        raw = oai.chat.completions.with_raw_response.create(model="default", messages=MSGS)
        assert raw.headers["x-fallbackd-fallbacks"] == "1"
        assert [m.id for m in oai.models.list()] == ["fallbackd/default"]
        with pytest.raises(openai.NotFoundError):
            oai.chat.completions.create(model="nope", messages=MSGS)
    finally:
        oai.close()
    assert _methods(server) == ["status"], "the socket comes from one status call"
    posts = [s for s in facade.seen if s["method"] == "POST"]
    assert [s["path"] for s in posts] == ["/v1/chat/completions"] * 3
    assert posts[0]["body"] == {"model": "default", "messages": MSGS, "timeout_ms": 5000}
    auth = {s["headers"].get("authorization") for s in facade.seen}
    assert auth == {f"Bearer {PLACEHOLDER_API_KEY}"}, auth
    assert [s["path"] for s in facade.seen if s["method"] == "GET"] == ["/v1/models"]


def test_placeholder_key_never_the_environment_one(client, server, facade, monkeypatch):
    _openai()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-key-that-must-stay-home")
    oai = client.openai(max_retries=0, timeout=WAIT)
    try:
        oai.chat.completions.create(model="default", messages=MSGS)
    finally:
        oai.close()
    assert facade.seen[-1]["headers"]["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"
    oai = client.openai(max_retries=0, timeout=WAIT, api_key="my-token", default_headers={"X-App": "billing"})
    try:
        oai.chat.completions.create(model="default", messages=MSGS)
    finally:
        oai.close()
    assert facade.seen[-1]["headers"]["authorization"] == "Bearer my-token"
    assert facade.seen[-1]["headers"]["x-app"] == "billing"


def test_missing_openai_package_is_a_clear_import_error(client, server, monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)  # `import openai` now raises ImportError
    with pytest.raises(ImportError) as ei:
        client.openai()
    assert "pip install openai" in str(ei.value) and ei.value.name == "openai"
    assert server.requests() == [], "nothing is asked of the daemon when the SDK is missing"


def test_http_client_argument_is_refused(client, server):
    with pytest.raises(TypeError, match="http_client"):
        client.openai(http_client=object())
    assert server.requests() == []


@pytest.mark.parametrize("status", [
    {"version": "0.1.0"},  # a daemon that predates the facade
    {"version": "0.1.0", "http_socket": None},  # [facade] enabled = false
])
def test_no_http_socket_in_status_is_a_clear_error(client, server, status):
    _openai()
    server.methods["status"] = lambda params: status
    with pytest.raises(RuntimeError, match="http_socket"):
        client.openai()
    assert _methods(server) == ["status"]


def test_unreachable_socket_surfaces_as_connection_error(client, server, sockdir):
    openai = _openai()
    gone = os.path.join(sockdir, "nobody-listens.sock")
    server.methods["status"] = lambda params: {"version": "0.1.0", "http_socket": gone}
    oai = client.openai(max_retries=0, timeout=WAIT)
    try:
        with pytest.raises(openai.APIConnectionError):
            oai.chat.completions.create(model="default", messages=MSGS)
    finally:
        oai.close()


def test_with_a_fresh_client_as_context_manager(server, facade):
    _openai()
    with FallbackClient(server.path, timeout=WAIT) as c:
        oai = c.openai(max_retries=0)
    try:  # the SDK client outlives the JSON-RPC connection: it has its own socket
        assert oai.chat.completions.create(model="default", messages=MSGS).choices[0].message.content == "Paris."
    finally:
        oai.close()
