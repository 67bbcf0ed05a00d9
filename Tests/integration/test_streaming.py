"""Streaming (docs/protocol.md, `complete` / Streaming): complete.delta notifications before the reply, for each
provider format; tool-call fragments; interleaved streams on one connection; SSE framing edge cases; streams in a
batch or sent as a notification get no deltas. Faults and the commit contract are in test_stream_faults.py."""

import json

import pytest

import fbd_harness as H
from chat_lib import (FLAVOR_OF, assert_delta_shapes, deltas, mid, only_req, read_until_replies, stream_request,
                      text_of, tool_calls_of)

MSGS = [{"role": "system", "content": "Be chatty."}, {"role": "user", "content": "Tell me a short story about rivers"}]
STREAMERS = list(FLAVOR_OF)  # OpenAI, Anthropic, Gemini, OpenAI-compatible
TEXT = "Once upon a time a river ran to the sea, and it sang all the way down."


def assert_streamed_upstream(fake, name):
    r = only_req(fake, name)
    assert r["stream_requested"] is True and r["stream"] is True, r
    if r["flavor"] == "gemini":
        assert r["path"].split("?")[0].endswith(":streamGenerateContent") and r["query"].get("alt") == ["sse"]
    else:
        assert r["body"]["stream"] is True
    assert H.wait_for(lambda: only_req(fake, name).get("ended") == "done", timeout=10), only_req(fake, name)
    return r


def assert_nothing_more(conn):
    """A ping after the reply is answered next: no stray delta arrives after the reply."""
    reply = conn.request("ping", id="after")
    assert reply["result"] == "pong"


@pytest.mark.parametrize("name", STREAMERS)
def test_stream_happy_path(daemon, fake, name):
    fake.script(mid(name), [], then={"kind": "ok", "content": TEXT, "chunks": 6, "input_tokens": 11,
                                     "output_tokens": 17})
    with daemon.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name]}, id=7)
        assert_nothing_more(c)
    assert "result" in reply, reply
    res = reply["result"]
    ds = assert_delta_shapes(notes, 7, name)
    content_deltas = [x for x in ds if "content" in x]
    assert len(content_deltas) >= 2, f"the answer should arrive in pieces: {ds}"
    assert text_of(ds) == res["content"] == TEXT
    assert ds[-1]["finish_reason"] == res["finish_reason"] == "stop"
    assert ds[-1]["usage"] == res["usage"]
    assert res["usage"]["input_tokens"] == 11 and res["usage"]["output_tokens"] == 17
    assert res["tool_calls"] == []
    assert res["model_used"] == name
    assert [(a["model"], a["outcome"], a["committed"], a["skipped_events"]) for a in res["attempts"]] == [
        (name, "success", True, 0)]
    assert_streamed_upstream(fake, name)


@pytest.mark.parametrize("name", STREAMERS)
def test_stream_tool_calls_add_up(daemon, fake, name):
    tools = [{"type": "function", "function": {"name": "find_river", "parameters": {"type": "object"}}}]
    args = {"name": "Danube", "countries": ["DE", "AT", "HU"], "length_km": 2850}
    fake.script(mid(name), [], then={"kind": "tool_call", "name": "find_river", "arguments": args, "count": 2})
    with daemon.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name], "tools": tools},
                                      id="tc")
    res = reply["result"]
    ds = assert_delta_shapes(notes, "tc", name)
    assert text_of(ds) == "" and res["content"] is None
    assert res["finish_reason"] == "tool_calls" and ds[-1]["finish_reason"] == "tool_calls"
    calls = tool_calls_of(ds)
    assert len(calls) == 2
    for call in calls:
        assert call["id"] and call["type"] == "function" and call["function"]["name"] == "find_river"
        assert json.loads(call["function"]["arguments"]) == args
    assert calls == res["tool_calls"], f"deltas {calls} != result {res['tool_calls']}"
    assert len({c["id"] for c in calls}) == 2
    # the first fragment of a call has its id and name; later ones only append arguments
    for d in ds:
        for frag in d.get("tool_calls") or []:
            assert ("id" in frag) == ("name" in frag.get("function", {})), frag
    assert_streamed_upstream(fake, name)


def test_interleaved_streams_on_one_connection(daemon, fake):
    texts = {"gpt-4o": "alpha " * 12, "claude-3-5-sonnet": "bravo " * 12, "gemini-pro": "charlie " * 12}
    ids = {"gpt-4o": 101, "claude-3-5-sonnet": "s-102", "gemini-pro": 103}
    fake.script(mid("gpt-4o"), [{"kind": "hold", "after": "ok", "content": texts["gpt-4o"], "chunks": 8}])
    for name in ("claude-3-5-sonnet", "gemini-pro"):
        fake.script(mid(name), [], then={"kind": "ok", "content": texts[name], "chunks": 8})
    with daemon.conn(30) as c:
        for name, i in ids.items():
            c.send({"jsonrpc": "2.0", "id": i, "method": "complete",
                    "params": {"messages": MSGS, "stream": True, "models": [name]}})
        # gpt-4o is held upstream while the other two stream; then it streams alone
        assert H.wait_for(lambda: len(fake.requests()) == 3, timeout=15), fake.requests()
        fake.release(mid("gpt-4o"))
        notes, replies = read_until_replies(c, list(ids.values()))
        assert_nothing_more(c)
    seen_ids = {n["params"]["id"] for n in notes}
    assert seen_ids == set(ids.values())
    for name, i in ids.items():
        mine = [n for n in notes if n["params"]["id"] == i]
        assert {n["params"]["model"] for n in mine} == {name}
        res = replies[i]["result"]
        assert res["model_used"] == name
        assert text_of(deltas(notes, id=i)) == res["content"] == texts[name]
        assert mine[-1]["params"]["delta"]["finish_reason"] == "stop"
    # each reply came after its own last delta (replies are not counted among notes; check arrival order)
    lines = [json.loads(x) for x in c.lines]
    for i in ids.values():
        last_delta = max(k for k, m in enumerate(lines) if m.get("params", {}).get("id") == i)
        reply_at = next(k for k, m in enumerate(lines) if m.get("id") == i)
        assert last_delta < reply_at


SSE_OPTS = ["crlf", "lf", "comments", "multiline", "split", ["crlf", "comments", "multiline", "split"]]


@pytest.mark.parametrize("sse", SSE_OPTS, ids=lambda o: o if isinstance(o, str) else "+".join(o))
@pytest.mark.parametrize("name", STREAMERS)
def test_sse_framing_edge_cases(daemon, fake, name, sse):
    text = "Line one, with \"quotes\" and a comma.\nLine two: data: not a field; émoji ✓ end."
    fake.script(mid(name), [], then={"kind": "ok", "content": text, "chunks": 5, "sse": sse})
    with daemon.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name]}, id=1)
    assert "result" in reply, reply
    ds = assert_delta_shapes(notes, 1, name)
    assert text_of(ds) == reply["result"]["content"] == text
    assert reply["result"]["attempts"][0]["skipped_events"] == 0
    assert_streamed_upstream(fake, name)


def test_stream_in_a_batch_gets_no_deltas(daemon, fake):
    fake.script(mid("gpt-4o"), [], then={"kind": "ok", "content": TEXT})
    fake.script(mid("claude-3-5-sonnet"), [], then={"kind": "ok", "content": TEXT + " (claude)"})
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "complete", "params": {"messages": MSGS, "stream": True,
                                                                     "models": ["gpt-4o"]}},
        {"jsonrpc": "2.0", "id": 2, "method": "complete", "params": {"messages": MSGS, "stream": True,
                                                                     "models": ["claude-3-5-sonnet"]}},
        {"jsonrpc": "2.0", "id": 3, "method": "ping"},
    ]
    with daemon.conn(30) as c:
        c.send(batch)
        first = c.recv(30)
        assert isinstance(first, list), f"the batch reply must be the first line, got {first}"
        by_id = {r["id"]: r for r in first}
        assert set(by_id) == {1, 2, 3}
        assert by_id[1]["result"]["content"] == TEXT
        assert by_id[2]["result"]["content"] == TEXT + " (claude)"
        assert by_id[3]["result"] == "pong"
        # a streaming request sent as a notification gets no deltas either (and no reply)
        c.send({"jsonrpc": "2.0", "method": "complete", "params": {"messages": MSGS, "stream": True,
                                                                    "models": ["gemini-pro"]}})
        assert H.wait_for(lambda: any(r.get("ended") == "done" for r in fake.requests(model=mid("gemini-pro"))),
                          timeout=15), "the notification's stream did not run"
        assert H.wait_for(lambda: daemon.call("status")["in_flight"] == 0, timeout=15)
        c.expect_no_more_lines()
    assert len(c.lines) == 1, f"only the batch reply was expected: {c.lines}"
