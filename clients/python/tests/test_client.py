"""Tests for fallbackd_client against an in-process fake JSON-RPC server.

The fake speaks the same wire format as fallbackd (one JSON text per line on a
Unix socket) and lets each test script replies, errors and connection drops.
No real daemon is needed.
"""

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from typing import Any, Callable, Dict, List, Optional

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fallbackd_client  # noqa: E402
from fallbackd_client import (  # noqa: E402
    AllBreakersOpen,
    AllModelsFailed,
    BudgetExceeded,
    CompletionResult,
    DaemonUnavailable,
    DeadlineExceeded,
    FallbackClient,
    FallbackError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    ParseError,
    ProtocolError,
    ShuttingDown,
    default_socket_path,
    format_attempts,
)
from fallbackd_client.__main__ import main as cli_main  # noqa: E402

WAIT = 5.0  # upper bound for waiting on server-side events; never a timing assertion

COMPLETE_RESULT = {
    "content": "Paris.",
    "model_used": "claude-3-5-sonnet",
    "model_id": "claude-3-5-sonnet-20241022",
    "provider": "anthropic",
    "task": "complex_reasoning",
    "chain": "complex_reasoning",
    "fallback_count": 1,
    "used_fallback": True,
    "latency_ms": 812,
    "attempts": [
        {"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "rate_limited",
         "http_status": 429, "latency_ms": 35},
        {"model": "claude-3-5-sonnet", "provider": "anthropic", "outcome": "success", "error_type": None,
         "http_status": 200, "latency_ms": 777},
    ],
    "usage": {"input_tokens": 12, "output_tokens": 40},
    "cost_usd": 0.000636,
    "request_id": "r-abc",
}

FAILED_DATA = {
    "request_id": "r-1",
    "task": "default",
    "chain": "default",
    "attempts": [
        {"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "server_error",
         "http_status": 500, "latency_ms": 20},
        {"model": "claude-3-haiku", "provider": "anthropic", "outcome": "error", "error_type": "timeout",
         "http_status": None, "latency_ms": 30000},
    ],
}

NO_REPLY = object()


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def raising(code: int, message: str, data: Any = None) -> Callable[[Any], Any]:
    """A fake method handler that answers with the given JSON-RPC error."""
    def handler(params: Any) -> Any:
        raise RpcError(code, message, data)
    return handler


class FakeDaemon:
    """A tiny threaded line-delimited JSON-RPC server on a Unix socket.

    Knobs (set by tests before the request they affect):
      methods            name -> handler(params) returning a result, NO_REPLY, or raising RpcError
      close_after_reply  close the connection after every reply
      drop_requests      close the connection without replying to the next N requests
      stray_lines        raw lines sent (once) before the next reply
      raw_reply          if set, sent verbatim instead of the next reply
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.methods: Dict[str, Callable[[Any], Any]] = {
            "ping": lambda params: "pong",
            "status": lambda params: {"version": "0.1.0", "in_flight": 0, "models": ["gpt-4o"]},
            "complete": lambda params: COMPLETE_RESULT,
            "echo": lambda params: params,
            "silent": lambda params: NO_REPLY,
        }
        self.close_after_reply = False
        self.drop_requests = 0
        self.stray_lines: List[bytes] = []
        self.raw_reply: Optional[bytes] = None
        self.received: List[Any] = []
        self.connections = 0
        self.conn_closed = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def requests(self) -> List[Dict[str, Any]]:
        """Every request object received, batches flattened, in arrival order."""
        with self._lock:
            out: List[Dict[str, Any]] = []
            for msg in self.received:
                out.extend(msg if isinstance(msg, list) else [msg])
            return out

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(WAIT)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(WAIT)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _reply_to(self, req: Any) -> Any:
        if not isinstance(req, dict) or "method" not in req:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        handler = self.methods.get(req["method"])
        try:
            if handler is None:
                raise RpcError(-32601, "method not found", {"method": req["method"]})
            result = handler(req.get("params"))
        except RpcError as exc:
            error = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            reply = {"jsonrpc": "2.0", "id": req.get("id"), "error": error}
        else:
            if result is NO_REPLY:
                return None
            reply = {"jsonrpc": "2.0", "id": req.get("id"), "result": result}
        return reply if "id" in req else None

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            for line in reader:
                msg = json.loads(line)
                with self._lock:
                    self.received.append(msg)
                    drop = self.drop_requests > 0
                    if drop:
                        self.drop_requests -= 1
                    stray, self.stray_lines = self.stray_lines, []
                    raw, self.raw_reply = self.raw_reply, None
                if drop:
                    return
                if isinstance(msg, list):
                    replies = [r for r in (self._reply_to(m) for m in msg) if r is not None]
                    replies.reverse()  # replies may come in any order
                    reply = replies or None
                else:
                    reply = self._reply_to(msg)
                for extra in stray:
                    conn.sendall(extra)
                if raw is not None:
                    conn.sendall(raw)
                elif reply is not None:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                if self.close_after_reply and reply is not None:
                    return
        except OSError:
            pass
        finally:
            reader.close()
            conn.close()
            self.conn_closed.set()


@pytest.fixture
def sockdir():
    # AF_UNIX paths are limited to ~104 bytes, so stay short instead of using tmp_path.
    path = tempfile.mkdtemp(prefix="fbc-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(sockdir):
    daemon = FakeDaemon(os.path.join(sockdir, "fallbackd.sock"))
    yield daemon
    daemon.stop()


@pytest.fixture
def client(server):
    with FallbackClient(server.path, timeout=WAIT) as c:
        yield c


# -- basics ----------------------------------------------------------------


def test_ping_status_and_request_framing(client, server):
    assert client.ping() == "pong"
    assert client.status() == {"version": "0.1.0", "in_flight": 0, "models": ["gpt-4o"]}
    first, second = server.requests()
    assert first == {"jsonrpc": "2.0", "method": "ping", "id": 1}  # no "params" when None
    assert second["id"] == 2 and second["method"] == "status"
    assert server.connections == 1  # one connection is reused


def test_call_returns_raw_result_and_sends_params(client, server):
    params = {"a": [1, 2.5, None, True], "text": "line1\nline2 \u00e9 \"q\""}
    assert client.call("echo", params) == params
    assert client.call("echo", [1, "two"]) == [1, "two"]
    assert server.requests()[0]["params"] == params


def test_call_rejects_bad_params_type(client):
    with pytest.raises(TypeError):
        client.call("echo", "not-a-container")


def test_complete_decodes_result(client, server):
    result = client.complete([{"role": "user", "content": "capital of France?"}], task="complex_reasoning")
    assert isinstance(result, CompletionResult)
    assert result.content == "Paris."
    assert result.model_used == "claude-3-5-sonnet"
    assert result.model_id == "claude-3-5-sonnet-20241022"
    assert result.provider == "anthropic"
    assert (result.task, result.chain) == ("complex_reasoning", "complex_reasoning")
    assert result.fallback_count == 1 and result.used_fallback is True
    assert result.latency_ms == 812
    assert result.attempts == COMPLETE_RESULT["attempts"]
    assert result.usage == {"input_tokens": 12, "output_tokens": 40}
    assert result.cost_usd == pytest.approx(0.000636)
    assert result.request_id == "r-abc"
    assert result.raw == COMPLETE_RESULT
    assert result.attempts_summary() == "gpt-4o:rate_limited -> claude-3-5-sonnet:ok"
    with pytest.raises(Exception):
        result.content = "changed"  # frozen
    sent = server.requests()[0]
    assert sent["method"] == "complete"
    # Options left as None are not sent, so the daemon's defaults apply.
    assert sent["params"] == {"messages": [{"role": "user", "content": "capital of France?"}],
                              "task": "complex_reasoning"}


def test_complete_sends_all_options(client, server):
    client.complete([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                    task="code_generation", models=["gpt-4o", "claude-3-haiku"], max_tokens=50,
                    temperature=0.0, timeout_ms=1500, metadata={"user": "u1"})
    params = server.requests()[0]["params"]
    assert params == {
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "task": "code_generation",
        "models": ["gpt-4o", "claude-3-haiku"],
        "max_tokens": 50,
        "temperature": 0.0,
        "timeout_ms": 1500,
        "metadata": {"user": "u1"},
    }


def test_complete_accepts_plain_string(client, server):
    client.complete("hello there")
    params = server.requests()[0]["params"]
    assert params == {"messages": [{"role": "user", "content": "hello there"}], "task": "default"}


def test_complete_single_model_string_is_one_entry(client, server):
    client.complete("hi", models="gpt-4o")
    assert server.requests()[0]["params"]["models"] == ["gpt-4o"]


def test_complete_waits_at_least_for_its_own_deadline(server, monkeypatch):
    client = FallbackClient(server.path, timeout=10.0)
    waits = []
    monkeypatch.setattr(client, "call", lambda method, params, timeout=None: waits.append(timeout) or COMPLETE_RESULT)
    client.complete("hi", timeout_ms=90000)  # longer than the client timeout: wait 90 s + slack
    client.complete("hi", timeout_ms=1000)  # shorter: the client timeout still applies
    client.complete("hi")  # no deadline given: client default
    assert waits[0] > 90.0 and waits[1] == 10.0 and waits[2] is None


def test_completion_result_tolerates_missing_fields():
    result = CompletionResult.from_dict({"content": "x", "model_used": "m"})
    assert (result.content, result.model_used, result.fallback_count, result.attempts, result.usage) == \
        ("x", "m", 0, [], {})


def test_format_attempts_for_failures():
    assert format_attempts(FAILED_DATA["attempts"]) == "gpt-4o:server_error -> claude-3-haiku:timeout"
    assert format_attempts([]) == ""


# -- errors ----------------------------------------------------------------


@pytest.mark.parametrize("code, cls, data", [
    (-32700, ParseError, None),
    (-32600, InvalidRequest, None),
    (-32601, MethodNotFound, {"method": "frobnicate"}),
    (-32602, InvalidParams, {"field": "messages[0].role", "reason": "must be system, user or assistant"}),
    (-32603, InternalError, None),
    (-32000, ShuttingDown, None),
    (-32001, AllModelsFailed, FAILED_DATA),
    (-32002, DeadlineExceeded, FAILED_DATA),
    (-32003, AllBreakersOpen, None),
    (-32004, BudgetExceeded, None),
    (-32005, Overloaded, {"in_flight": 10000, "max_in_flight": 10000}),
])
def test_error_codes_map_to_typed_exceptions(client, server, code, cls, data):
    server.methods["fail"] = raising(code, f"boom {code}", data)
    with pytest.raises(cls) as info:
        client.call("fail")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, FallbackError) and isinstance(err, Exception)
    assert (err.code, err.message, err.data) == (code, f"boom {code}", data)
    assert str(err) == f"[{code}] boom {code}"
    # The connection survives an error reply.
    assert client.ping() == "pong"
    assert server.connections == 1


def test_error_data_accessors(client, server):
    errors = {
        "bad_params": (-32602, {"field": "models[1]", "reason": "unknown model"}),
        "all_failed": (-32001, FAILED_DATA),
        "deadline": (-32002, FAILED_DATA),
        "overloaded": (-32005, {"in_flight": 7, "max_in_flight": 5}),
    }
    for name, (code, data) in errors.items():
        server.methods[name] = raising(code, name, data)

    with pytest.raises(InvalidParams) as info:
        client.call("bad_params")
    assert (info.value.field, info.value.reason) == ("models[1]", "unknown model")

    for method, cls in (("all_failed", AllModelsFailed), ("deadline", DeadlineExceeded)):
        with pytest.raises(cls) as info:
            client.call(method)
        assert info.value.attempts == FAILED_DATA["attempts"]
        assert (info.value.request_id, info.value.task, info.value.chain) == ("r-1", "default", "default")

    with pytest.raises(Overloaded) as info:
        client.call("overloaded")
    assert (info.value.in_flight, info.value.max_in_flight) == (7, 5)

    with pytest.raises(MethodNotFound) as info:
        client.call("nope")
    assert info.value.method == "nope"


def test_complete_raises_all_models_failed(client, server):
    server.methods["complete"] = raising(-32001, "all models failed", FAILED_DATA)
    with pytest.raises(AllModelsFailed) as info:
        client.complete("hi")
    assert len(info.value.attempts) == 2


def test_unknown_error_code_is_plain_fallback_error(client, server):
    server.methods["odd"] = raising(-31999, "odd", {"x": 1})
    with pytest.raises(FallbackError) as info:
        client.call("odd")
    assert type(info.value) is FallbackError
    assert (info.value.code, info.value.data) == (-31999, {"x": 1})


def test_missing_data_gives_empty_accessors():
    err = fallbackd_client.error_from_object({"code": -32001, "message": "all failed"})
    assert isinstance(err, AllModelsFailed)
    assert err.attempts == [] and err.request_id is None
    err = fallbackd_client.error_from_object({"code": -32602, "message": "bad"})
    assert isinstance(err, InvalidParams) and err.field is None


def test_null_id_error_is_raised_for_pending_request(client, server):
    server.raw_reply = (b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,'
                        b'"message":"request line exceeds 8388608 bytes","data":{"max_line_bytes":8388608}}}\n')
    with pytest.raises(InvalidRequest) as info:
        client.ping()
    assert info.value.data == {"max_line_bytes": 8388608}


def test_non_json_reply_is_protocol_error(client, server):
    server.raw_reply = b"this is not json\n"
    with pytest.raises(ProtocolError):
        client.ping()
    assert client.ping() == "pong"  # a fresh connection is opened afterwards


# -- replies, ids and framing ----------------------------------------------


def test_stray_replies_with_other_ids_are_skipped(client, server):
    server.stray_lines = [
        b'{"jsonrpc":"2.0","id":999,"result":"stale"}\n',
        b'\n',
        b'{"jsonrpc":"2.0","id":true,"result":"bool id is not an id"}\r\n',
    ]
    assert client.call("echo", {"v": 1}) == {"v": 1}
    assert client.ping() == "pong"


def test_crlf_reply_split_across_writes(client, server):
    server.stray_lines = [b'{"jsonrpc":"2.0",']
    server.raw_reply = b'"id":1,"result":"pong"}\r\n'
    assert client.ping() == "pong"


def test_notification_has_no_id_and_gets_no_reply(client, server):
    client.notify("echo", {"n": 1})
    assert client.ping() == "pong"  # would read the wrong line if the notification had been answered
    note, ping = server.requests()
    assert note == {"jsonrpc": "2.0", "method": "echo", "params": {"n": 1}}
    assert ping["id"] == 1


def test_ids_count_up(client, server):
    for _ in range(3):
        client.ping()
    client.batch([("ping", None), ("ping", None)])
    assert [r["id"] for r in server.requests()] == [1, 2, 3, 4, 5]


# -- batches ----------------------------------------------------------------


def test_batch_results_in_request_order(client, server):
    server.methods["fail"] = raising(-32001, "failed", FAILED_DATA)
    results = client.batch([
        ("ping", None),
        ("echo", {"k": "v"}),
        ("nope", {}),
        ("fail",),
        "status",
    ])
    assert results[0] == "pong"
    assert results[1] == {"k": "v"}
    assert isinstance(results[2], MethodNotFound) and results[2].method == "nope"
    assert isinstance(results[3], AllModelsFailed) and results[3].attempts == FAILED_DATA["attempts"]
    assert results[4]["version"] == "0.1.0"
    assert len(server.received) == 1 and isinstance(server.received[0], list)  # one line, one batch


def test_empty_batch_sends_nothing():
    unused = FallbackClient("/nonexistent/fallbackd.sock")
    assert unused.batch([]) == []


def test_batch_level_error_is_raised(client, server):
    server.raw_reply = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"overloaded"}}\n'
    with pytest.raises(Overloaded):
        client.batch([("ping", None)])


def test_batch_reply_missing_entry_is_protocol_error(client, server):
    server.raw_reply = b'[{"jsonrpc":"2.0","id":1,"result":"pong"}]\n'
    with pytest.raises(ProtocolError):
        client.batch([("ping", None), ("ping", None)])


def test_batch_rejects_malformed_items(client):
    with pytest.raises(TypeError):
        client.batch([("ping", None, "extra")])


# -- connection handling ------------------------------------------------------


def test_reconnects_after_server_closed_idle_connection(client, server):
    server.close_after_reply = True
    assert client.ping() == "pong"
    assert server.conn_closed.wait(WAIT)  # the server has really closed the first connection
    assert client.call("echo", {"again": True}) == {"again": True}
    assert server.connections == 2


def test_retries_once_when_reused_connection_drops_request(client, server):
    assert client.ping() == "pong"
    server.drop_requests = 1  # next request: read, then connection closed without a reply
    assert client.call("echo", {"x": 1}) == {"x": 1}
    assert server.connections == 2
    assert [r["method"] for r in server.requests()] == ["ping", "echo", "echo"]


def test_fresh_connection_closed_before_reply_is_not_retried(client, server):
    server.drop_requests = 5
    with pytest.raises(DaemonUnavailable) as info:
        client.ping()
    assert "closed the connection" in str(info.value)
    assert server.connections == 1
    assert len(server.requests()) == 1


def test_reconnect_happens_only_once(client, server):
    assert client.ping() == "pong"
    server.drop_requests = 5
    with pytest.raises(DaemonUnavailable):
        client.ping()
    assert server.connections == 2  # the original connection plus one retry


def test_daemon_unavailable_for_missing_socket(sockdir):
    path = os.path.join(sockdir, "missing.sock")
    client = FallbackClient(path, timeout=WAIT)
    with pytest.raises(DaemonUnavailable) as info:
        client.ping()
    err = info.value
    assert isinstance(err, ConnectionError)
    assert err.socket_path == path
    assert path in str(err) and "fallbackd" in str(err)


def test_daemon_unavailable_for_stale_socket_file(sockdir):
    path = os.path.join(sockdir, "stale.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens
    with pytest.raises(DaemonUnavailable):
        FallbackClient(path, timeout=WAIT).ping()


def test_timeout_when_no_reply(server):
    with FallbackClient(server.path, timeout=0.2) as client:
        with pytest.raises(TimeoutError):
            client.call("silent")
        assert client.ping() == "pong"  # the timed-out connection was replaced
    assert server.connections == 2


def test_close_and_reuse(client, server):
    assert client.ping() == "pong"
    client.close()
    assert client.ping() == "pong"
    assert server.connections == 2


def test_shared_client_is_thread_safe(client, server):
    errors: List[BaseException] = []
    results: Dict[int, Any] = {}

    def worker(n: int) -> None:
        try:
            for i in range(20):
                got = client.call("echo", {"worker": n, "i": i})
                assert got == {"worker": n, "i": i}
            results[n] = True
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 4)
    assert not errors
    assert sorted(results) == list(range(8))
    ids = [r["id"] for r in server.requests()]
    assert sorted(ids) == list(range(1, 161)) and len(set(ids)) == 160


# -- socket path ----------------------------------------------------------------


def test_default_socket_path_precedence():
    assert default_socket_path({"FALLBACKD_SOCKET": "/a.sock", "XDG_RUNTIME_DIR": "/run/user/1"}) == "/a.sock"
    assert default_socket_path({"XDG_RUNTIME_DIR": "/run/user/1"}) == "/run/user/1/fallbackd.sock"
    assert default_socket_path({"FALLBACKD_SOCKET": "", "XDG_RUNTIME_DIR": ""}) == f"/tmp/fallbackd-{os.getuid()}.sock"
    assert default_socket_path({}) == f"/tmp/fallbackd-{os.getuid()}.sock"


def test_client_uses_environment_socket(server, monkeypatch):
    monkeypatch.setenv("FALLBACKD_SOCKET", server.path)
    with FallbackClient() as client:
        assert client.socket_path == server.path
        assert client.ping() == "pong"


# -- command line -------------------------------------------------------------------


def test_cli_ping_and_complete(server, capsys):
    assert cli_main(["--socket", server.path, "ping"]) == 0
    assert json.loads(capsys.readouterr().out) == "pong"
    assert cli_main(["--socket", server.path, "complete", "hi there", "--task", "code_generation"]) == 0
    assert json.loads(capsys.readouterr().out) == COMPLETE_RESULT
    params = server.requests()[-1]["params"]
    assert params == {"messages": [{"role": "user", "content": "hi there"}], "task": "code_generation"}


def test_cli_reports_errors(server, sockdir, capsys):
    server.methods["complete"] = raising(-32001, "all failed", FAILED_DATA)
    assert cli_main(["--socket", server.path, "complete", "x"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == -32001
    assert cli_main(["--socket", os.path.join(sockdir, "none.sock"), "status"]) == 2
    assert "none.sock" in capsys.readouterr().err
