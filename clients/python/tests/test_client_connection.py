"""Tests for fallbackd_client: batches, connection handling and the socket path.

The fake (tests/fake_daemon.py, fixtures in tests/conftest.py) speaks the same
wire format as fallbackd and lets each test script replies, errors and
connection drops. No real daemon is needed.
"""

import os
import socket
import sys
import threading
from typing import Any, Dict, List

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import FAILED_DATA, WAIT, raising  # noqa: E402
from fallbackd_client import (  # noqa: E402
    AllModelsFailed,
    DaemonUnavailable,
    FallbackClient,
    MethodNotFound,
    Overloaded,
    ProtocolError,
    RequestInterrupted,
    default_socket_path,
)


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
    # the stale connection is noticed before sending: replaced transparently, the request delivered once
    assert client.complete("What is the capital of France?").content == "Paris."
    assert server.connections == 2
    assert [r["method"] for r in server.requests()] == ["ping", "complete"]


def test_request_dropped_after_it_was_read_is_not_resent(client, server):
    """The daemon read the request, then closed: it may have run it (a paid complete), so never send it twice."""
    assert client.ping() == "pong"
    server.drop_requests = 1  # next request: read, then the connection closed without a reply
    with pytest.raises(RequestInterrupted) as info:
        client.complete("What is the capital of France?")
    err = info.value
    assert isinstance(err, DaemonUnavailable) and err.request_sent is True
    assert "may have processed" in str(err) and "not sent again" in str(err)
    assert [r["method"] for r in server.requests()] == ["ping", "complete"], "the complete was sent twice"
    assert server.connections == 1
    # the client recovers on a fresh connection for the next call; the dropped request stays unsent
    assert client.ping() == "pong"
    assert [r["method"] for r in server.requests()] == ["ping", "complete", "ping"]
    assert server.connections == 2


def test_fresh_connection_closed_before_reply_is_not_retried(client, server):
    server.drop_requests = 5
    with pytest.raises(RequestInterrupted) as info:
        client.ping()
    assert "closed the connection" in str(info.value)
    assert server.connections == 1
    assert len(server.requests()) == 1


def test_stale_connection_is_replaced_at_most_once(client, server):
    server.close_after_reply = True
    assert client.ping() == "pong"
    assert server.conn_closed.wait(WAIT)
    server.close_after_reply = False
    server.drop_requests = 5  # the fresh connection drops the request too: no third connection, no resend
    with pytest.raises(RequestInterrupted):
        client.call("echo", {"once": True})
    assert server.connections == 2  # the original connection plus its one replacement
    assert [r["method"] for r in server.requests()] == ["ping", "echo"]


def test_first_write_refused_is_resent_on_a_fresh_connection(client, server, monkeypatch):
    """The daemon closed the idle connection after the stale check: the first write fails with nothing
    written, so sending on a fresh connection is still the first and only delivery."""
    server.close_after_reply = True
    assert client.ping() == "pong"
    assert server.conn_closed.wait(WAIT)
    server.close_after_reply = False
    monkeypatch.setattr(client, "_peer_closed", lambda: False)  # the check ran just before the close
    assert client.call("echo", {"n": 1}) == {"n": 1}
    assert server.connections == 2
    assert [r["method"] for r in server.requests()] == ["ping", "echo"]


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


def test_timeout_when_no_reply(client, server):
    with pytest.raises(TimeoutError):
        client.call("silent", timeout=0.2)  # never answered: the timeout is the only way out
    assert client.ping() == "pong"  # the timed-out connection was replaced (with the generous client timeout)
    assert server.connections == 2
    assert [r["method"] for r in server.requests()] == ["silent", "ping"], "the timed-out request was resent"


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
