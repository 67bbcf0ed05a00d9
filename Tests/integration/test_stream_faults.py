"""The streaming commit contract (docs/protocol.md, `complete` / Streaming), for each provider format.

Before the first delta with content a fault falls back invisibly; after it, the reply is -32006 with what was
delivered (on_interrupt "error"), or a complete.reset and a fresh start on the next model (on_interrupt
"restart"). The stalled / silent fakes stall for 60 s; replies must come long before (first-token and idle
timeouts of 2 s here). More stream faults in test_stream_faults_more.py.
"""

import json
import time

import pytest

import fbd_harness as H
from chat_lib import (FLAVOR_OF, NEXT_OF, assert_delta_shapes, deltas, mid, only_req, providers_timeouts, reqs,
                      stream_request, text_of, tool_calls_of)

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Describe the water cycle please"}]
STREAMERS = list(FLAVOR_OF)
TIMEOUT_MS = 2000
FAST = providers_timeouts(first_token_ms=TIMEOUT_MS, idle_ms=TIMEOUT_MS)
RETRY_ON = H.resilience(retry={"max_retries": 1, "base_delay_ms": 10, "max_delay_ms": 50})
X_TEXT = "XPARTIAL evaporation lifts the water up into the clouds, then condensation and rain follow later."
BOUND_S = 15.0  # the stalled fakes stall for 60 s; a reply within this proves a timeout fired


def error_event_type(name):
    """error_type of each flavor's in-stream error event (see Tests/fakes/fake_providers.py)."""
    return "server_error" if FLAVOR_OF[name] in ("openai", "compat") else "overloaded"


def ended(fake, name, want, timeout=15.0):
    """Wait (bounded) until the fake marks `name`'s single request as ended in one of `want`."""
    want = {want} if isinstance(want, str) else set(want)
    got = H.wait_for(lambda: only_req(fake, name).get("ended") in want, timeout=timeout)
    assert got, f"{name}: the fake's request did not end as {want}: {only_req(fake, name).get('ended')!r}"


# fault step, error_type (None: per flavor), http_status, how the fake ended it, times out
PRE_COMMIT = {
    "stream_reset": ({"kind": "stream_reset"}, "connection", None, {"reset"}),
    "stream_silent": ({"kind": "stream_silent"}, "timeout", None, {"silent_client_closed"}),
    "stream_slow_first": ({"kind": "stream_slow_first", "ms": 30000}, "timeout", None, {"client_closed"}),
    "stream_malformed_first": ({"kind": "stream_malformed", "position": "first"}, "bad_response", 200,
                               {"done", "client_closed"}),
    # http_status not checked: the 200 carried an in-stream error (the daemon reports null)
    "stream_error_event_0": ({"kind": "stream_error_event", "after_chunks": 0}, None, "any", {"error_event"}),
    "server_error": ("server_error", "server_error", 500, None),
}


@pytest.mark.parametrize("fault", list(PRE_COMMIT))
@pytest.mark.parametrize("name", STREAMERS)
def test_fault_before_first_token_falls_back_invisibly(daemon_factory, fake, name, fault):
    step, etype, status, ends = PRE_COMMIT[fault]
    etype = etype or error_event_type(name)
    nxt = NEXT_OF[name]
    d = daemon_factory(cfg_mutate=FAST)
    fake.script(mid(name), [], then=step)
    fake.script(mid(nxt), [], then={"kind": "ok", "content": "The second model tells it all.", "chunks": 4})
    t0 = time.monotonic()
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name, nxt]}, id=5)
    elapsed = time.monotonic() - t0
    assert "result" in reply, f"{fault} before the first token must fall back invisibly: {reply}"
    res = reply["result"]
    ds = assert_delta_shapes(notes, 5, nxt)  # the caller sees only the second model's deltas
    assert text_of(ds) == res["content"] == "The second model tells it all."
    assert not [n for n in notes if n["method"] != "complete.delta"], "no complete.reset before a commit"
    assert res["model_used"] == nxt and res["fallback_count"] == 1
    att = res["attempts"]
    assert [(a["model"], a["outcome"], a["committed"]) for a in att] == [(name, "error", False),
                                                                         (nxt, "success", True)], att
    assert att[0]["error_type"] == etype, att[0]
    if status != "any":
        assert att[0]["http_status"] == status, att[0]
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    if ends:
        ended(fake, name, ends)
        assert only_req(fake, name)["stream"] is True
    ended(fake, nxt, "done")


# fault step, error_type (None: per flavor), how the fake ended it
POST_COMMIT = {
    "stream_cut": ({"kind": "stream_cut", "after_chunks": 2}, "connection", "cut"),
    "stream_stall": ({"kind": "stream_stall", "after_chunks": 2}, "timeout", "stalled_client_closed"),
    "stream_error_event_2": ({"kind": "stream_error_event", "after_chunks": 2}, None, "error_event"),
}


def post_commit_step(fault):
    step, _, _ = POST_COMMIT[fault]
    return dict(step, content=X_TEXT, chunks=6)


@pytest.mark.parametrize("fault", list(POST_COMMIT))
@pytest.mark.parametrize("name", STREAMERS)
def test_fault_after_first_token_is_stream_interrupted(daemon_factory, fake, name, fault):
    _, etype, end = POST_COMMIT[fault]
    etype = etype or error_event_type(name)
    nxt = NEXT_OF[name]
    d = daemon_factory(cfg_mutate=H.compose(FAST, RETRY_ON))  # a silent retry would turn a cut into a success
    fake.script(mid(name), [], then=post_commit_step(fault))
    t0 = time.monotonic()
    with d.conn(30) as c:
        params = {"messages": MSGS, "stream": True, "models": [name, nxt], "task": "summarize"}
        if name == "gpt-4o":
            params["on_interrupt"] = "error"  # the default, spelled out once
        notes, reply = stream_request(c, params, id="cut-1")
    elapsed = time.monotonic() - t0
    assert "error" in reply, f"a stream cut after its first delta never ends as a success: {reply}"
    err = reply["error"]
    assert err["code"] == -32006, err
    data = err["data"]
    for n in notes:
        assert n["method"] == "complete.delta" and n["params"]["id"] == "cut-1" and n["params"]["model"] == name, n
    ds = deltas(notes)
    assert ds and all("finish_reason" not in x for x in ds), ds
    got = text_of(ds)
    assert got and X_TEXT.startswith(got), f"delivered {got!r}"
    assert data["model"] == name
    assert data["reason"] == etype
    assert isinstance(data["message"], str) and data["message"]
    assert data["delivered"] == {"content_chars": len(got), "tool_calls": 0, "tool_call_open": False}, data
    assert data["request_id"].startswith("r-")
    assert (data["task"], data["chain"]) == ("summarize", "explicit")
    assert [(a["model"], a["outcome"], a["error_type"], a["committed"]) for a in data["attempts"]] == [
        (name, "error", etype, True)], data["attempts"]
    assert [e["model"] for e in data["route"]] == [name, nxt]
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    ended(fake, name, end)
    assert reqs(fake, nxt) == [], "no second model after the commit"
    assert len(reqs(fake, name)) == 1, "no retry after the commit"


@pytest.mark.parametrize("name", ["gpt-4o", "claude-3-5-sonnet", "local-llama"])
def test_cut_inside_a_tool_call_reports_it_open(daemon_factory, fake, name):
    d = daemon_factory(cfg_mutate=FAST)
    args = {"query": "rivers of europe longer than a thousand kilometres", "limit": 25}
    fake.script(mid(name), [], then={"kind": "stream_cut", "answer": "tool_call", "arguments": args,
                                     "after_chunks": 2, "chunks": 6})
    tools = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "tools": tools,
                                          "models": [name, NEXT_OF[name]]}, id=9)
    err = H.rpc_error(reply, -32006)
    calls = tool_calls_of(deltas(notes))
    assert len(calls) == 1 and calls[0]["function"]["name"] == "search"
    assert json.dumps(args, separators=(",", ":")).startswith(calls[0]["function"]["arguments"])
    assert err["data"]["delivered"] == {"content_chars": 0, "tool_calls": 1, "tool_call_open": True}, err["data"]
    assert reqs(fake, NEXT_OF[name]) == []


@pytest.mark.parametrize("fault", list(POST_COMMIT))
@pytest.mark.parametrize("name", STREAMERS)
def test_on_interrupt_restart(daemon_factory, fake, name, fault):
    _, etype, end = POST_COMMIT[fault]
    etype = etype or error_event_type(name)
    nxt = NEXT_OF[name]
    d = daemon_factory(cfg_mutate=FAST)
    fake.script(mid(name), [], then=post_commit_step(fault))
    fake.script(mid(nxt), [], then={"kind": "ok", "content": "A fresh answer from the next model.", "chunks": 3})
    t0 = time.monotonic()
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name, nxt],
                                          "on_interrupt": "restart"}, id=11)
    elapsed = time.monotonic() - t0
    assert "result" in reply, reply
    res = reply["result"]
    methods = [n["method"] for n in notes]
    assert methods.count("complete.reset") == 1, methods
    k = methods.index("complete.reset")
    reset = notes[k]
    assert reset["params"] == {"id": 11, "model": name, "reason": etype}, reset
    before, after = notes[:k], notes[k + 1:]
    assert before and all(n["params"]["model"] == name for n in before), before
    assert text_of(deltas(before)) and X_TEXT.startswith(text_of(deltas(before)))
    ds = assert_delta_shapes(after, 11, nxt)
    assert res["content"] == text_of(ds) == "A fresh answer from the next model.", "only the second model's deltas"
    assert res["model_used"] == nxt
    assert res["fallback_count"] == 1 and res["used_fallback"] is True
    assert [(a["model"], a["outcome"], a["error_type"], a["committed"]) for a in res["attempts"]] == [
        (name, "error", etype, True), (nxt, "success", None, True)], res["attempts"]
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    ended(fake, name, end)
    # the next model starts again from the caller's conversation: no assistant prefill of the partial answer
    r = only_req(fake, nxt)
    body = json.dumps(r["body"])
    assert "XPARTIAL" not in body, f"the partial answer was sent to the next model: {body}"
    turns = r["body"]["contents"] if r["flavor"] == "gemini" else r["body"]["messages"]
    assert [t["role"] for t in turns if t["role"] != "system"] == ["user"], f"only the caller's turns: {turns}"
    if r["flavor"] in ("openai", "compat"):
        assert turns == MSGS, turns
