"""Tests for fallbackd_client: typed errors, error data, replies, ids and framing.

The fake (tests/fake_daemon.py, fixtures in tests/conftest.py) speaks the same
wire format as fallbackd and lets each test script replies, errors and
connection drops. No real daemon is needed.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fallbackd_client  # noqa: E402
from fake_daemon import FAILED_DATA, raising  # noqa: E402
from fallbackd_client import (  # noqa: E402
    AllBreakersOpen,
    AllModelsFailed,
    BudgetExceeded,
    DeadlineExceeded,
    FallbackError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    ParseError,
    ProtocolError,
    ShuttingDown,
)


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
