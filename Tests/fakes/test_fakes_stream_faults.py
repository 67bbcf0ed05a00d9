"""Checks of the fake provider server: the stream faults (stream_reset, stream_silent, stream_slow_first,
stream_cut, stream_stall, stream_malformed, stream_no_done, stream_error_event), streaming and not.

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import expected_reply  # noqa: E402
from fakes_sselib import (  # noqa: E402
    anthropic_reassemble,
    dechunk,
    gemini_reassemble,
    open_request,
    openai_reassemble,
    parse_sse,
    stream,
    stream_request,
    wait_for,
)
from fakes_testlib import MESSAGES, call, openai_body  # noqa: E402

FLAVORS = [("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"), ("gemini", "gemini-2.5-pro")]


def _ended(fake, value, i=0):
    assert wait_for(lambda: len(fake.requests()) > i and fake.requests()[i].get("ended") == value), fake.requests()


def _is_json(s):
    try:
        json.loads(s)
        return True
    except ValueError:
        return False


# ----------------------------------------------------------------------------- reset, silent


@pytest.mark.parametrize("flavor,model", FLAVORS)
def test_stream_reset_closes_before_any_byte(fake, flavor, model):
    fake.script(model, ["stream_reset", "stream_reset"])
    for streaming in (True, False):
        path, body, hdrs = stream_request(flavor, model, stream=streaming, query="?alt=sse" if streaming else "")
        s = open_request(fake.port, path, body, hdrs)
        try:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                got = b""
            assert got == b"", "no byte of an answer"
        finally:
            s.close()
    rec = fake.requests()
    assert [(x["ended"], x["stream"]) for x in rec] == [("reset", True), ("reset", False)]
    assert call(fake, flavor, model).status == 200, "the server still serves"


def test_stream_silent_sends_nothing_until_the_client_goes(fake):
    fake.script("claude-sonnet-4-5", ["stream_silent", "stream_silent"])
    for i, streaming in enumerate((True, False)):
        path, body, hdrs = stream_request("anthropic", "claude-sonnet-4-5", stream=streaming)
        s = open_request(fake.port, path, body, hdrs, timeout=0.3)
        try:
            assert wait_for(lambda: fake.requests()[i:] and fake.requests()[i]["kind"] == "stream_silent")
            with pytest.raises((socket.timeout, TimeoutError)):
                s.recv(1)  # bounded wait: nothing at all arrives, the connection stays open
        finally:
            s.close()
        _ended(fake, "silent_client_closed" if streaming else "client_closed", i)
    assert fake.requests()[0]["stream"] is True and fake.requests()[1]["stream"] is False


# ----------------------------------------------------------------------------- slow first token


def test_stream_slow_first_sends_headers_and_preamble_then_waits(fake):
    fake.script("gpt-4o", [{"kind": "stream_slow_first", "ms": 30000}])
    path, body, hdrs = stream_request("openai", "gpt-4o")
    s = open_request(fake.port, path, body, hdrs, timeout=10)
    try:
        got = b""
        while b'"role":"assistant"' not in got:  # headers and the role chunk come at once
            chunk = s.recv(65536)
            assert chunk, "closed before the first event"
            got += chunk
        assert got.startswith(b"HTTP/1.1 200") and b"text/event-stream" in got
        assert b'"content":"fake' not in got
        s.settimeout(0.3)
        with pytest.raises((socket.timeout, TimeoutError)):
            s.recv(1)  # bounded wait: no content while the first token is slow
    finally:
        s.close()
    _ended(fake, "client_closed")


def test_stream_slow_first_then_streams_normally(fake):
    fake.script("claude-sonnet-4-5", ["stream_slow_first:100", "stream_slow_first:100"])
    t0 = time.monotonic()
    out = anthropic_reassemble(parse_sse(stream(fake, "anthropic", "claude-sonnet-4-5").text))
    assert time.monotonic() - t0 >= 0.09
    assert out["blocks"][0]["text"] == expected_reply("anthropic", "claude-sonnet-4-5", MESSAGES)["content"]
    assert out["names"][-1] == "message_stop" and fake.requests()[0]["ended"] == "done"
    r = call(fake, "anthropic", "claude-sonnet-4-5")  # not streaming: like slow
    assert r.status == 200 and fake.requests()[1]["ended"] == "answered"


# ----------------------------------------------------------------------------- cut, stall


@pytest.mark.parametrize("flavor,model", FLAVORS)
def test_stream_cut_ends_without_terminator(fake, flavor, model):
    fake.script(model, ["stream_cut"])
    r = stream(fake, flavor, model, wait_eof=True)
    assert r.status == 200 and r.eof and not r.complete, "chunked body cut: no terminating chunk, connection closed"
    evs = parse_sse(r.text)
    content = expected_reply(flavor, model, MESSAGES)["content"]
    if flavor == "openai":
        out = openai_reassemble(evs)
        assert not out["done"] and out["finish"] is None
        assert len(evs) == 3 and content.startswith(out["content"]) and out["content"] != content
    elif flavor == "anthropic":
        out = anthropic_reassemble(evs)
        assert out["names"][-2:] == ["content_block_delta", "content_block_delta"]
        assert "message_stop" not in out["names"] and out["stop_reason"] is None
    else:
        out = gemini_reassemble(evs)
        assert out["chunks"] == 2 and out["finish"] is None and content.startswith(out["text"])
    rec = fake.requests()[0]
    assert (rec["ended"], rec["sent_chunks"], rec["stream"]) == ("cut", 2, True)


def test_stream_cut_options_close_framing_tool_call_and_not_streaming(fake):
    fake.script("gpt-4o", [{"kind": "stream_cut", "framing": "close", "after_chunks": 1},
                           {"kind": "stream_cut", "answer": "tool_call", "arguments": {"city": "Paris"}},
                           "stream_cut"])
    r = stream(fake, "openai", "gpt-4o", wait_eof=True)
    assert r.eof and r.headers["connection"] == "close" and "transfer-encoding" not in r.headers
    out = openai_reassemble(parse_sse(r.text))
    assert not out["done"] and out["finish"] is None and out["content"]  # a clean EOF, but no [DONE]
    out = openai_reassemble(parse_sse(stream(fake, "openai", "gpt-4o", wait_eof=True).text))
    args = out["tool_calls"][0]["arguments"]
    assert args and not _is_json(args) and '{"city":"Paris"}'.startswith(args)
    # not streaming: like stall_body
    path, body, hdrs = stream_request("openai", "gpt-4o", stream=False)
    s = open_request(fake.port, path, body, hdrs)
    try:
        assert wait_for(lambda: len(fake.requests()) == 3 and "sent_body_bytes" in fake.requests()[2])
    finally:
        s.close()
    _ended(fake, "client_closed", 2)


@pytest.mark.parametrize("flavor,model", FLAVORS)
def test_stream_stall_keeps_the_connection_silent(fake, flavor, model):
    fake.script(model, [{"kind": "stream_stall", "after_chunks": 1}])
    path, body, hdrs = stream_request(flavor, model)
    s = open_request(fake.port, path, body, hdrs, timeout=10)
    try:
        # barrier: the fake marks the request when it starts stalling, after its last byte
        assert wait_for(lambda: fake.requests() and "stalled_after_chunks" in fake.requests()[0]), fake.requests()
        assert fake.requests()[0]["stalled_after_chunks"] == 1
        got = b""
        s.settimeout(0.3)
        try:
            while True:
                chunk = s.recv(65536)
                assert chunk, "the connection must stay open"
                got += chunk
        except (socket.timeout, TimeoutError):
            pass  # bounded wait: nothing more arrives
        head, _, rest = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert fake.requests()[0].get("ended") is None
    finally:
        s.close()
    _ended(fake, "stalled_client_closed")
    # the bytes seen decode to the preamble and one content chunk, nothing after
    text = dechunk(rest).decode()
    evs = parse_sse(text)
    if flavor == "openai":
        assert [bool(json.loads(e["data"])["choices"][0]["delta"].get("content")) for e in evs] == [False, True]
    elif flavor == "anthropic":
        assert [e["event"] for e in evs] == ["message_start", "content_block_start", "ping", "content_block_delta"]
    else:
        assert len(evs) == 1 and "finishReason" not in json.loads(evs[0]["data"])["candidates"][0]


# ----------------------------------------------------------------------------- malformed, no [DONE], error event


@pytest.mark.parametrize("flavor,model", FLAVORS)
@pytest.mark.parametrize("position", ["first", "middle"])
def test_stream_malformed(fake, flavor, model, position):
    fake.script(model, [{"kind": "stream_malformed", "position": position}])
    r = stream(fake, flavor, model)
    assert r.complete
    evs = parse_sse(r.text)
    bad = [i for i, e in enumerate(evs) if e["data"] != "[DONE]" and not _is_json(e["data"])]
    assert len(bad) == 1, evs
    i = bad[0]
    content = expected_reply(flavor, model, MESSAGES)["content"]
    good = [e for e in evs if e["data"] == "[DONE]" or _is_json(e["data"])]
    if flavor == "openai":
        assert i == 1 if position == "first" else i == 2
        out = openai_reassemble(good)
        assert out["done"] and out["finish"] == "stop"
    elif flavor == "anthropic":
        assert evs[i]["event"] == "content_block_delta" and i == (3 if position == "first" else 4)
        out = anthropic_reassemble(good)
        assert out["names"][-1] == "message_stop"
        out = {"content": out["blocks"][0]["text"]}
    else:
        assert i == (0 if position == "first" else 1)
        out = gemini_reassemble(good)
        assert out["finish"] == "STOP"
        out = {"content": out["text"]}
    if position == "middle":
        assert out["content"] == content, "the bad line comes in addition to the good chunks"
    else:
        assert out["content"] != content and content.endswith(out["content"]), "the first chunk is the bad one"
    assert fake.requests()[0]["ended"] == "done"


def test_stream_malformed_not_streaming_is_malformed(fake):
    fake.script("gpt-4o", ["stream_malformed"])
    r = call(fake, "openai", "gpt-4o")
    assert r.status == 200
    with pytest.raises(ValueError):
        r.json()


def test_stream_no_done(fake):
    fake.script("gpt-4o", ["stream_no_done", "stream_no_done"])
    body = openai_body("gpt-4o")
    body["stream_options"] = {"include_usage": True}
    r = stream(fake, "openai", "gpt-4o", body=body, wait_eof=True)
    assert r.complete and r.eof, "a complete chunked body, then the connection closes"
    evs = parse_sse(r.text)
    assert evs[-1]["data"] != "[DONE]"
    assert json.loads(evs[-1]["data"])["choices"] == [] and json.loads(evs[-1]["data"])["usage"]["total_tokens"] > 0
    out = openai_reassemble(evs)
    assert out["finish"] == "stop" and not out["done"]
    assert out["content"] == expected_reply("openai", "gpt-4o", MESSAGES)["content"]
    assert fake.requests()[0]["ended"] == "no_done"
    assert call(fake, "openai", "gpt-4o").status == 200  # not streaming: ok
    fake.script("claude-sonnet-4-5", ["stream_no_done"])
    out = anthropic_reassemble(parse_sse(stream(fake, "anthropic", "claude-sonnet-4-5").text))
    assert out["names"][-1] == "message_stop" and fake.requests()[2]["ended"] == "done"


@pytest.mark.parametrize("flavor,model", FLAVORS)
def test_stream_error_event(fake, flavor, model):
    fake.script(model, [{"kind": "stream_error_event", "after_chunks": 1}, "stream_error_event"])
    r = stream(fake, flavor, model, wait_eof=True)
    assert r.status == 200 and r.complete and r.eof
    evs = parse_sse(r.text)
    last = evs[-1]
    if flavor == "openai":
        assert json.loads(last["data"]) == {"error": {"message": "The server had an error while processing your "
                                                                "request.", "type": "server_error"}}
        assert openai_reassemble(evs[:-1])["content"] and len(evs) == 3
    elif flavor == "anthropic":
        assert last["event"] == "error"
        assert json.loads(last["data"]) == {"type": "error",
                                            "error": {"type": "overloaded_error", "message": "Overloaded"}}
        assert [e["event"] for e in evs[:-1]] == ["message_start", "content_block_start", "ping",
                                                  "content_block_delta"]
    else:
        assert json.loads(last["data"]) == {"error": {"code": 503, "message": "The model is overloaded.",
                                                      "status": "UNAVAILABLE"}}
        assert len(evs) == 2
    assert fake.requests()[0]["ended"] == "error_event"
    # default after_chunks 0: no content before the error
    evs = parse_sse(stream(fake, flavor, model, wait_eof=True).text)
    contents = {"openai": lambda: openai_reassemble(evs[:-1])["content"],
                "anthropic": lambda: [e for e in evs if e["event"] == "content_block_delta"],
                "gemini": lambda: evs[:-1]}[flavor]()
    assert not contents


def test_stream_error_event_not_streaming_is_an_http_error(fake):
    fake.script("*", [], then="stream_error_event")
    assert call(fake, "openai", "gpt-4o").status == 500
    assert call(fake, "anthropic", "claude-sonnet-4-5").json()["error"]["type"] == "overloaded_error"
    assert call(fake, "gemini", "gemini-2.5-pro").status == 503


def test_client_closing_mid_stream_is_recorded(fake):
    fake.script("gemini-2.5-pro", [{"kind": "stream_slow_first", "ms": 30000}])
    path, body, hdrs = stream_request("gemini", "gemini-2.5-pro")
    s = open_request(fake.port, path, body, hdrs)
    try:
        got = s.recv(65536)  # headers arrive at once (Gemini sends no preamble); then the client leaves
        assert got.startswith(b"HTTP/1.1 200")
    finally:
        s.close()
    _ended(fake, "client_closed")
    assert fake.requests()[0]["sent_chunks"] == 0
