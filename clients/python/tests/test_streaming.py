"""Tests for streaming ``complete`` on the blocking client: deltas, tool-call fragments, resets, errors.

The fake (tests/fake_daemon.py) sends scripted ``complete.delta``/``complete.reset``
notifications before the reply, over a real Unix socket.
"""

import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import COMPLETE_RESULT, WAIT, delta, raising, reset  # noqa: E402
from fallbackd_client import (  # noqa: E402
    AllModelsFailed,
    CompletionResult,
    Delta,
    ProtocolError,
    RequestInterrupted,
    Reset,
    StreamInterrupted,
)

USAGE = {"input_tokens": 9, "output_tokens": 3, "cached_input_tokens": 0, "cache_write_tokens": 0,
         "reasoning_tokens": 0}
HELLO = [delta(content="Hel"), delta(content="lo"), delta(content="."),
         delta(finish_reason="stop", usage=USAGE)]
HELLO_RESULT = dict(COMPLETE_RESULT, content="Hello.", tool_calls=[], model_used="gpt-4o", finish_reason="stop",
                    usage=USAGE)

CALL_FRAGMENTS = [
    delta(tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": ""}}]),
    delta(tool_calls=[{"index": 0, "function": {"arguments": "{\"city\":"}}]),
    delta(tool_calls=[{"index": 1, "id": "call_2", "type": "function",
                       "function": {"name": "get_time", "arguments": "{}"}}]),
    delta(tool_calls=[{"index": 0, "function": {"arguments": "\"Paris\"}"}}]),
    delta(finish_reason="tool_calls", usage=USAGE),
]
CALLS = [
    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
    {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
]


def _script(server, notes, result=HELLO_RESULT):
    server.notify_before = list(notes)
    server.methods["complete"] = lambda params: result


def test_request_carries_stream_and_the_options(client, server):
    _script(server, HELLO)
    stream = client.stream([{"role": "user", "content": "Say hello"}], task="chat", on_interrupt="restart",
                           max_completion_tokens=20, stream_options={"include_usage": True}, extra={"logprobs": False})
    assert server.requests() == []  # sent when the iteration starts
    stream.final_result()
    sent = server.requests()[0]
    assert sent["method"] == "complete" and sent["id"] == stream.request_id
    assert sent["params"] == {"messages": [{"role": "user", "content": "Say hello"}], "task": "chat", "stream": True,
                              "on_interrupt": "restart", "max_completion_tokens": 20,
                              "stream_options": {"include_usage": True}, "logprobs": False}


def test_content_deltas_arrive_in_order_and_add_up_to_the_result(client, server):
    _script(server, HELLO)
    stream = client.stream("Say hello")
    events = list(stream)
    assert [e.content for e in events] == ["Hel", "lo", ".", None]
    assert all(isinstance(e, Delta) and e.kind == "delta" and e.model == "gpt-4o" for e in events)
    assert (events[-1].finish_reason, events[-1].usage) == ("stop", USAGE)
    assert isinstance(stream.result, CompletionResult) and stream.done and stream.error is None
    assert "".join(e.content or "" for e in events) == stream.content == stream.result.content == "Hello."
    assert (stream.finish_reason, stream.usage, stream.model) == ("stop", USAGE, "gpt-4o")
    assert stream.final_result() is stream.result
    assert list(stream) == []  # exhausted
    assert client.ping() == "pong"  # the connection is reusable
    assert server.connections == 1


def test_deltas_are_yielded_as_they_arrive(client, server):
    gate = threading.Event()
    _script(server, [HELLO[0], gate] + HELLO[1:])
    stream = client.stream("Say hello")
    assert next(stream).content == "Hel"  # before the daemon has sent the rest
    gate.set()
    assert stream.final_result().content == "Hello."


def test_tool_call_fragments_are_merged(client, server):
    _script(server, CALL_FRAGMENTS, dict(HELLO_RESULT, content=None, tool_calls=CALLS, finish_reason="tool_calls"))
    stream = client.stream("weather and time?", tools=[{"type": "function", "function": {"name": "get_weather"}}])
    fragments = [e.tool_calls for e in stream]
    assert fragments[1] == [{"index": 0, "function": {"arguments": "{\"city\":"}}]
    assert stream.tool_calls == stream.result.tool_calls == CALLS
    assert stream.content is None and stream.result.content is None
    assert [c.arguments for c in stream.result.parsed_tool_calls()] == [{"city": "Paris"}, {}]


def test_reset_event_clears_what_arrived(client, server):
    notes = [delta(content="Bon"), delta(tool_calls=[{"index": 0, "id": "c", "function": {"name": "f"}}]),
             reset(model="gpt-4o", reason="timeout"),
             delta(model="claude-3-5-sonnet", content="Hello."),
             delta(model="claude-3-5-sonnet", finish_reason="stop", usage=USAGE)]
    _script(server, notes, dict(HELLO_RESULT, model_used="claude-3-5-sonnet"))
    stream = client.stream("Say hello", on_interrupt="restart")
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, Reset):
            assert (event.model, event.reason, event.kind) == ("gpt-4o", "timeout", "reset")
            assert stream.content is None and stream.tool_calls == [] and stream.resets == 1
    assert [type(e).__name__ for e in events] == ["Delta", "Delta", "Reset", "Delta", "Delta"]
    assert stream.content == stream.result.content == "Hello." and stream.model == "claude-3-5-sonnet"


def test_text_chunks(client, server):
    _script(server, HELLO)
    stream = client.stream("Say hello")
    assert list(stream.text_chunks()) == ["Hel", "lo", "."]
    assert stream.result.content == "Hello."


def test_text_chunks_with_restart_needs_on_reset(client, server):
    notes = [delta(content="Bon"), reset(), delta(content="Hello."), delta(finish_reason="stop")]
    _script(server, notes)
    with pytest.raises(ValueError, match="on_reset"):
        list(client.stream("hi", on_interrupt="restart").text_chunks())
    resets = []
    chunks = list(client.stream("hi", on_interrupt="restart").text_chunks(on_reset=resets.append))
    assert chunks == ["Bon", "Hello."] and [r.reason for r in resets] == ["timeout"]


def test_notifications_of_other_ids_are_ignored(client, server):
    other = 4242
    notes = [delta(content="Hel"), delta(content="NOT OURS", req_id=other), reset(req_id=other),
             {"jsonrpc": "2.0", "method": "log.line", "params": {"text": "unrelated"}},
             {"jsonrpc": "2.0", "id": other, "result": {"content": "late reply for someone else"}},
             delta(content="lo."), delta(content="NOT OURS EITHER", req_id="x"), delta(finish_reason="stop")]
    _script(server, notes)
    stream = client.stream("Say hello")
    assert [e.content for e in stream] == ["Hel", "lo.", None]
    assert stream.resets == 0 and stream.result.content == "Hello."


def test_other_calls_between_events_keep_the_stream_intact(client, server):
    _script(server, HELLO)
    stream = client.stream("Say hello")
    assert next(stream).content == "Hel"
    assert client.ping() == "pong"  # reads past the rest of the stream, which is kept for it
    assert [e.content for e in stream] == ["lo", ".", None]
    assert stream.result.content == "Hello."
    assert [r["method"] for r in server.requests()] == ["complete", "ping"]


def test_stream_interrupted_carries_the_partial_answer(client, server):
    fragment = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{"}}
    server.notify_before = [delta(content="Once upon"), delta(tool_calls=[fragment])]
    server.methods["complete"] = raising(-32006, "stream interrupted: gpt-4o timed out", {
        "model": "gpt-4o", "reason": "timeout", "message": "idle", "request_id": "r-1",
        "delivered": {"content_chars": 9, "tool_calls": 1, "tool_call_open": True}, "attempts": [], "route": []})
    stream = client.stream("story")
    seen = []
    with pytest.raises(StreamInterrupted) as info:
        for event in stream:
            seen.append(event.content)
    err = info.value
    assert seen == ["Once upon", None]
    assert (err.model, err.reason, err.content_chars, err.tool_call_open) == ("gpt-4o", "timeout", 9, True)
    assert err.partial_content == "Once upon"
    assert err.partial_tool_calls == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{"}}]
    assert stream.error is err and stream.done and stream.result is None
    with pytest.raises(StreamInterrupted):
        stream.final_result()
    assert client.ping() == "pong"


def test_error_before_any_delta_is_raised_from_the_iteration(client, server):
    server.methods["complete"] = raising(-32001, "all models failed", {"attempts": [], "route": []})
    stream = client.stream("hi")
    with pytest.raises(AllModelsFailed):
        next(stream)
    assert list(stream) == []


def test_connection_closed_mid_stream_raises_request_interrupted_and_never_resends(client, server):
    server.notify_before = HELLO[:2]
    server.hang_up_after_notify = True
    stream = client.stream("Say hello")
    got = []
    with pytest.raises(RequestInterrupted) as info:
        for event in stream:
            got.append(event.content)
    assert got == ["Hel", "lo"] and stream.content == "Hello" and stream.done
    assert "not sent again" in str(info.value)
    assert [r["method"] for r in server.requests()] == ["complete"]
    assert client.ping() == "pong"  # a fresh connection; the stream was not resent
    assert [r["method"] for r in server.requests()] == ["complete", "ping"] and server.connections == 2


def test_closing_an_unfinished_stream_stops_it(client, server):
    gate = threading.Event()
    _script(server, [HELLO[0], gate] + HELLO[1:])
    with client.stream("Say hello") as stream:
        assert next(stream).content == "Hel"
    gate.set()  # the fake sends the rest: only a closed connection ends its serving thread
    assert server.conn_closed.wait(WAIT)  # the connection was closed: the daemon cancels the request
    assert list(stream) == [] and stream.result is None
    assert client.ping() == "pong" and server.connections == 2


def test_garbage_for_the_stream_is_a_protocol_error(client, server):
    server.notify_before = [{"jsonrpc": "2.0", "method": "complete.delta", "params": {"id": 1, "delta": {}}},
                            b"not json\n"]
    stream = client.stream("hi")
    assert next(stream).content is None
    with pytest.raises(ProtocolError):
        next(stream)
    assert stream.done


def test_stream_timeout_is_per_event(server):
    from fallbackd_client import FallbackClient

    gate = threading.Event()
    _script(server, [HELLO[0], gate] + HELLO[1:])
    with FallbackClient(server.path, timeout=0.3) as client:
        stream = client.stream("Say hello")
        assert next(stream).content == "Hel"
        with pytest.raises(TimeoutError):
            next(stream)
        gate.set()
        assert stream.done and [r["method"] for r in server.requests()] == ["complete"]


def test_cli_stream_prints_text_as_it_arrives(server, capsys):
    from fallbackd_client.__main__ import main as cli_main

    _script(server, HELLO)
    assert cli_main(["--socket", server.path, "stream", "Say hello", "--task", "chat", "--restart"]) == 0
    assert capsys.readouterr().out == "Hello.\n"
    assert server.requests()[0]["params"] == {"messages": [{"role": "user", "content": "Say hello"}],
                                              "task": "chat", "stream": True, "on_interrupt": "restart"}
    server.notify_before = [delta(content="Once")]
    server.methods["complete"] = raising(-32006, "stream interrupted", {"model": "gpt-4o", "reason": "timeout"})
    assert cli_main(["--socket", server.path, "stream", "story"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Once\n" and '"code": -32006' in captured.err
