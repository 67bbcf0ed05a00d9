"""Tests for fallbackd_client against an in-process fake JSON-RPC server.

The fake (tests/fake_daemon.py, fixtures in tests/conftest.py) speaks the same
wire format as fallbackd and lets each test script replies, errors and
connection drops. No real daemon is needed.
"""

import json
import os
import socket
import sys
import threading
from typing import Any, Dict, List

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
from fake_daemon import COMPLETE_RESULT, FAILED_DATA, WAIT, raising  # noqa: E402



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
