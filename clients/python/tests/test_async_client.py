"""Tests for AsyncFallbackClient: calls, complete, streams, errors, and requests sharing one connection.

Each test drives its coroutine with asyncio.run (no pytest plugin needed)
against the threaded fake daemon (tests/fake_daemon.py).
"""

import asyncio
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import FAILED_DATA, WAIT, delta, raising, reset  # noqa: E402
from fallbackd_client import (  # noqa: E402
    AllModelsFailed,
    AsyncFallbackClient,
    DaemonUnavailable,
    Delta,
    InvalidParams,
    RequestInterrupted,
    Reset,
    StreamInterrupted,
)
from test_streaming import CALL_FRAGMENTS, CALLS, HELLO, HELLO_RESULT, USAGE  # noqa: E402


def run(coro_fn, server):
    async def main():
        async with AsyncFallbackClient(server.path, timeout=WAIT) as client:
            return await coro_fn(client)
    return asyncio.run(main())


def test_call_complete_and_typed_errors(server):
    server.methods["fail"] = raising(-32001, "all failed", FAILED_DATA)

    async def body(client):
        assert await client.ping() == "pong"
        result = await client.complete("capital of France?", task="complex_reasoning", tools=None, seed=3)
        assert result.content == "Paris." and result.model_used == "claude-3-5-sonnet"
        with pytest.raises(AllModelsFailed) as info:
            await client.call("fail")
        assert info.value.attempts == FAILED_DATA["attempts"]
        assert (await client.health(5)) == {"window_minutes": 5}  # the mixed-in methods are awaitable
    server.methods["health"] = lambda params: params
    run(body, server)
    methods = [(r["method"], r.get("params")) for r in server.requests()]
    assert methods[1] == ("complete", {"messages": [{"role": "user", "content": "capital of France?"}],
                                       "task": "complex_reasoning", "seed": 3})
    assert server.connections == 1


def test_concurrent_requests_share_one_connection(server):
    async def body(client):
        return await asyncio.gather(*(client.call("echo", {"n": n}) for n in range(20)), client.complete("hi"))
    results = run(body, server)
    assert results[:20] == [{"n": n} for n in range(20)] and results[20].content == "Paris."
    assert server.connections == 1 and len(server.requests()) == 21


def test_stream_happy_path(server):
    server.notify_before = list(HELLO)
    server.methods["complete"] = lambda params: HELLO_RESULT

    async def body(client):
        stream = client.stream("Say hello", on_interrupt="error")
        events = [event async for event in stream]
        return stream, events
    stream, events = run(body, server)
    assert all(isinstance(e, Delta) for e in events)
    assert [e.content for e in events] == ["Hel", "lo", ".", None] and events[-1].usage == USAGE
    assert stream.content == stream.result.content == "Hello."
    assert server.requests()[0]["params"] == {"messages": [{"role": "user", "content": "Say hello"}],
                                              "task": "default", "stream": True, "on_interrupt": "error"}


def test_stream_tool_calls_reset_and_other_ids(server):
    notes = [delta(content="partial"), reset(reason="connection"), delta(content="x", req_id=77),
             {"jsonrpc": "2.0", "id": 77, "result": {}}] + CALL_FRAGMENTS
    server.notify_before = notes
    server.methods["complete"] = lambda params: dict(HELLO_RESULT, content=None, tool_calls=CALLS)

    async def body(client):
        stream = client.stream("weather?", on_interrupt="restart")
        kinds = []
        async for event in stream:
            kinds.append(event.kind)
            if isinstance(event, Reset):
                assert event.reason == "connection" and stream.content is None
        return stream, kinds
    stream, kinds = run(body, server)
    assert kinds == ["delta", "reset"] + ["delta"] * len(CALL_FRAGMENTS)
    assert stream.tool_calls == stream.result.tool_calls == CALLS and stream.resets == 1


def test_stream_text_chunks_and_final_result(server):
    server.notify_before = list(HELLO)
    server.methods["complete"] = lambda params: HELLO_RESULT

    async def body(client):
        stream = client.stream("Say hello")
        chunks = [c async for c in stream.text_chunks()]
        return chunks, await stream.final_result()
    chunks, result = run(body, server)
    assert chunks == ["Hel", "lo", "."] and result.content == "Hello."


def test_stream_interrupted(server):
    server.notify_before = [delta(content="Once")]
    server.methods["complete"] = raising(-32006, "stream interrupted", {
        "model": "gpt-4o", "reason": "timeout", "message": "idle",
        "delivered": {"content_chars": 4, "tool_calls": 0, "tool_call_open": False}})

    async def body(client):
        stream = client.stream("story")
        with pytest.raises(StreamInterrupted) as info:
            async for _ in stream:
                pass
        assert await client.ping() == "pong"
        return info.value
    err = run(body, server)
    assert (err.model, err.reason, err.content_chars, err.partial_content) == ("gpt-4o", "timeout", 4, "Once")


def test_connection_closed_mid_stream_raises_request_interrupted(server):
    server.notify_before = HELLO[:2]
    server.hang_up_after_notify = True

    async def body(client):
        stream = client.stream("Say hello")
        got = []
        with pytest.raises(RequestInterrupted):
            async for event in stream:
                got.append(event.content)
        assert got == ["Hel", "lo"] and stream.done
        assert await client.ping() == "pong"  # a fresh connection, and the stream was not resent
    run(body, server)
    assert [r["method"] for r in server.requests()] == ["complete", "ping"] and server.connections == 2


def test_a_stream_and_calls_interleave(server):
    gate = threading.Event()
    server.notify_before = [HELLO[0], gate] + HELLO[1:]
    server.methods["complete"] = lambda params: HELLO_RESULT

    async def body(client):
        stream = client.stream("Say hello")
        first = await stream.__anext__()
        ping = asyncio.ensure_future(client.ping())  # sent while the stream is still running
        await asyncio.sleep(0)
        gate.set()
        # the ping's reply comes after the rest of the stream: each message reaches its owner
        pong = await ping
        rest = [e.content async for e in stream]
        return first, pong, rest, stream.result
    first, pong, rest, result = run(body, server)
    assert (first.content, pong, rest, result.content) == ("Hel", "pong", ["lo", ".", None], "Hello.")


def test_invalid_params_and_unreachable_daemon(server, sockdir):
    server.methods["complete"] = raising(-32602, "invalid params", {"field": "tools[0].function.name",
                                                                     "reason": "duplicate"})

    async def body(client):
        with pytest.raises(InvalidParams) as info:
            await client.stream("hi").final_result()
        assert info.value.field == "tools[0].function.name"
    run(body, server)

    async def missing():
        async with AsyncFallbackClient(os.path.join(sockdir, "none.sock"), timeout=WAIT) as client:
            await client.ping()
    with pytest.raises(DaemonUnavailable):
        asyncio.run(missing())


def test_timeout_leaves_the_connection_usable(server):
    async def body(client):
        with pytest.raises(TimeoutError):
            await client.call("silent", timeout=0.2)
        assert await client.call("echo", {"after": True}) == {"after": True}
    run(body, server)
    assert server.connections == 1
