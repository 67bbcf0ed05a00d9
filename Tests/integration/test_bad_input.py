"""Bad input on raw sockets: JSON-RPC errors, batches, notifications, the line cap, vanishing clients."""

import socket

import pytest

import fbd_harness as H

USER = {"role": "user", "content": "hi"}
MAX_LINE = 65536  # max_line_bytes in the test config


def test_malformed_json_keeps_connection(daemon, conn):
    conn.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"\n')
    r = conn.recv()
    assert r["jsonrpc"] == "2.0"
    assert r["id"] is None
    assert r["error"]["code"] == -32700
    assert "result" not in r
    conn.send_raw(b"this is not json at all\n")
    assert conn.recv()["error"]["code"] == -32700
    conn.send_raw(b"\xff\xfe{]\n")
    assert conn.recv()["error"]["code"] == -32700
    # still the same connection
    assert conn.request("ping", id=2)["result"] == "pong"


def test_crlf_line_ending_accepted(daemon, conn):
    conn.send_raw(b'{"jsonrpc": "2.0", "id": "crlf", "method": "ping"}\r\n')
    r = conn.recv()
    assert r == {"jsonrpc": "2.0", "id": "crlf", "result": "pong"}


def test_two_requests_in_one_write_and_one_request_in_two_writes(daemon, conn):
    conn.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
    got = {conn.recv()["id"], conn.recv()["id"]}
    assert got == {1, 2}
    conn.send_raw(b'{"jsonrpc":"2.0","id":3,')
    # barrier, not a pause: the daemon has read the first half (nothing of ours is left unread in the socket)
    assert H.wait_for(lambda: H.unread_bytes(conn.sock) == 0), "the daemon never read the first half of the line"
    conn.send_raw(b'"method":"ping"}\n')
    assert conn.recv()["id"] == 3


@pytest.mark.parametrize(
    "line,expect_null_id",
    [
        (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', False),
        (b'{"id": 1, "method": "ping"}', False),
        (b'{"jsonrpc": "2.0", "id": 1}', False),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', False),
        (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}', True),
        (b'{"jsonrpc": "2.0", "id": [1], "method": "ping"}', True),
        (b"42", True),
        (b'"ping"', True),
        (b"null", True),
    ],
)
def test_invalid_request(daemon, conn, line, expect_null_id):
    conn.send_raw(line + b"\n")
    r = conn.recv()
    assert r["error"]["code"] == -32600, r
    if expect_null_id:
        assert r["id"] is None
    else:
        assert r["id"] in (None, 1)
    assert conn.request("ping", id=9)["result"] == "pong"


@pytest.mark.parametrize(
    "params,field",
    [
        ({"messages": "hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [USER, {"role": "user", "content": 5}]}, "messages[1].content"),
        ({"messages": [USER, {"content": "no role"}]}, "messages[1].role"),
        ({"messages": [USER, "just a string"]}, ("messages[1]", "messages[1].role")),
        ({"messages": [USER], "max_tokens": "x"}, "max_tokens"),
        ({"messages": [USER], "max_tokens": 0}, "max_tokens"),
        ({"messages": [USER], "max_tokens": 1.5}, "max_tokens"),
        ({"messages": [USER], "max_tokens": True}, "max_tokens"),
        ({"messages": [USER], "temperature": 2.5}, "temperature"),
        ({"messages": [USER], "temperature": -0.1}, "temperature"),
        ({"messages": [USER], "temperature": "hot"}, "temperature"),
        ({"messages": [USER], "timeout_ms": 0}, "timeout_ms"),
        ({"messages": [USER], "timeout_ms": "soon"}, "timeout_ms"),
        ({"messages": [USER], "task": 5}, "task"),
        ({"messages": [USER], "models": "gpt-4o"}, "models"),
        ({"messages": [USER], "models": ["gpt-4o", 7]}, "models[1]"),
        ({"messages": [USER], "models": ["gpt-4o", "nope"]}, "models[1]"),
        ({"messages": [USER], "metadata": "x"}, "metadata"),
        ({"messages": [USER], "metadata": [1, 2]}, "metadata"),
    ],
)
def test_invalid_params(daemon, conn, fake, params, field):
    r = conn.request("complete", params, id="bad-1")
    assert "result" not in r, r
    err = r["error"]
    assert err["code"] == -32602, err
    fields = field if isinstance(field, tuple) else (field,)
    assert err["data"]["field"] in fields, err
    assert isinstance(err["data"]["reason"], str) and err["data"]["reason"]
    assert fake.requests() == [], "invalid params must not reach a provider"


def test_params_not_an_object(daemon, conn, fake):
    r = conn.request("complete", [[USER]], id=3)
    assert r["error"]["code"] == -32602
    assert fake.requests() == []


@pytest.mark.parametrize("method", ["nope", "PING", "complete_v2", ""])
def test_unknown_method(daemon, conn, method):
    r = conn.request(method, id=11)
    if method == "":
        assert r["error"]["code"] in (-32601, -32600)
        return
    assert r["error"]["code"] == -32601
    assert r["error"]["data"]["method"] == method


def test_notification_gets_no_reply(daemon, conn, fake):
    conn.send({"jsonrpc": "2.0", "method": "ping"})
    conn.send({"jsonrpc": "2.0", "method": "no-such-method"})
    conn.send({"jsonrpc": "2.0", "method": "complete", "params": {"messages": "bad"}})
    conn.send({"jsonrpc": "2.0", "id": 7, "method": "ping"})
    r = conn.recv()
    assert r["id"] == 7 and r["result"] == "pong"
    conn.expect_no_more_lines()


def test_batch_mixed(daemon, conn, fake):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        42,
        {"jsonrpc": "2.0", "id": "x", "method": "nope"},
        {"jsonrpc": "2.0", "method": "ping"},  # notification: no entry
        {"jsonrpc": "2.0", "id": 3, "method": "complete", "params": {"messages": [{"role": "robot", "content": "a"}]}},
        {"jsonrpc": "2.0", "id": 4, "method": "complete", "params": {"messages": [USER], "models": ["gpt-4o-mini"]}},
    ]
    conn.send(batch)
    r = conn.recv(timeout=15)
    assert isinstance(r, list), r
    assert len(r) == 5, r
    by_id = {}
    nulls = []
    for item in r:
        assert item["jsonrpc"] == "2.0"
        if item["id"] is None:
            nulls.append(item)
        else:
            assert item["id"] not in by_id, "duplicate reply"
            by_id[item["id"]] = item
    assert set(by_id) == {1, "x", 3, 4}
    assert by_id[1]["result"] == "pong"
    assert by_id["x"]["error"]["code"] == -32601
    assert by_id[3]["error"]["code"] == -32602
    assert by_id[3]["error"]["data"]["field"] == "messages[0].role"
    assert by_id[4]["result"]["model_used"] == "gpt-4o-mini"
    assert len(nulls) == 1 and nulls[0]["error"]["code"] == -32600
    conn.expect_no_more_lines()


def test_empty_batch(daemon, conn):
    conn.send_raw(b"[]\n")
    r = conn.recv()
    assert isinstance(r, dict), "an empty batch gets a single error, not an array"
    assert r["id"] is None
    assert r["error"]["code"] == -32600
    assert conn.request("ping", id=1)["result"] == "pong"


def test_all_notification_batch_gets_no_reply(daemon, conn):
    conn.send([{"jsonrpc": "2.0", "method": "ping"}, {"jsonrpc": "2.0", "method": "status"}])
    conn.send({"jsonrpc": "2.0", "id": 8, "method": "ping"})
    r = conn.recv()
    assert isinstance(r, dict) and r["id"] == 8 and r["result"] == "pong"
    conn.expect_no_more_lines()


def _assert_line_cap_reply(r):
    assert r["id"] is None
    assert r["error"]["code"] == -32600
    assert r["error"]["data"]["max_line_bytes"] == MAX_LINE
    assert str(MAX_LINE) in r["error"]["message"]


def test_line_over_cap_closes_connection(daemon):
    c = daemon.conn()
    try:
        line = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (MAX_LINE + 4000) + b'"}}\n'
        try:
            c.send_raw(line)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon may close before it has read everything; the reply is already queued
        _assert_line_cap_reply(c.recv())
        assert c.wait_closed(20), "connection must be closed after an over-long line"
    finally:
        c.close()
    # the daemon still serves new connections
    assert daemon.call("ping") == "pong"


def test_line_over_cap_without_newline(daemon):
    """The cap applies while the line is still arriving: no newline needed to trip it."""
    c = daemon.conn()
    try:
        try:
            c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"y" * (MAX_LINE * 2))
        except (BrokenPipeError, ConnectionResetError):
            pass
        _assert_line_cap_reply(c.recv())
        assert c.wait_closed(20)
    finally:
        c.close()
    assert daemon.call("ping") == "pong"


def test_line_under_cap_is_fine(daemon, conn, fake):
    big = "word " * 11000  # ~55 KB of content, under the 64 KiB cap with the JSON around it
    r = conn.call("complete", {"messages": [{"role": "user", "content": big}], "models": ["gpt-4o-mini"]})
    assert r["content"] == "fake-openai gpt-4o-mini says: " + big[:40]
    assert r["usage"]["input_tokens"] == 11000


def test_client_disconnect_mid_complete(daemon, fake):
    """A client sends complete to a slow model and vanishes: the daemon survives, finishes or cancels the
    request (frees its in-flight slot), and an attempt that reached the provider is in the call log."""
    fake.script("gpt-4o-mini", [], then="slow:800")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.socket)
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"complete","params":{"messages":[{"role":"user","content":"bye"}],'
              b'"models":["gpt-4o-mini"],"metadata":{"case":"disconnect"}}}\n')
    s.close()
    # the daemon keeps serving meanwhile
    assert daemon.call("ping") == "pong"

    # barrier: the daemon admitted the request and is done with it (finished it, or cancelled it because its
    # client left); no guess at how long either takes
    def done(st):
        return st["requests_total"] >= 1 and st["in_flight"] == 0

    assert H.wait_for(lambda: done(daemon.call("status"))), daemon.call("status")
    assert daemon.call("ping") == "pong"
    daemon.stop()
    sent = fake.requests(model="gpt-4o-mini")
    rows = [r for r in daemon.db_rows() if r["model_name"] == "gpt-4o-mini"]
    # at most one attempt, and one that reached the provider is logged (a request cancelled before its attempt
    # started sends and logs nothing)
    assert len(sent) <= 1 and len(sent) <= len(rows) <= 1, (sent, rows)
    for row in rows:
        assert row["error_type"] in (None, "cancelled"), row
        assert row["success"] in (0, 1)
        assert '"disconnect"' in (row["metadata"] or "")


def test_many_abrupt_clients(daemon, fake):
    """Clients that connect and close, or send half a line and close: the daemon stays up."""
    for i in range(30):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(daemon.socket)
        if i % 3 == 1:
            s.sendall(b'{"jsonrpc":"2.0","id":1,"meth')
        elif i % 3 == 2:
            s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"status"}\n')
        s.close()
    assert daemon.call("ping") == "pong"
    st = daemon.call("status")
    assert st["in_flight"] == 0
