"""More stream faults (docs/protocol.md, `complete` / Streaming): a malformed event after the commit is skipped
and counted, a stream without [DONE] still succeeds promptly, first-token / idle timeouts set per model, the same
fault steps without streaming, and a client that disconnects mid-stream (slot freed, upstream cancelled, the
attempt logged as cancelled)."""

import time

import pytest

import fbd_harness as H
from chat_lib import (FLAVOR_OF, NEXT_OF, assert_delta_shapes, deltas, mid, only_req, providers_timeouts, reqs,
                      set_model, stream_request, text_of)

MSGS = [{"role": "user", "content": "Name three kinds of clouds"}]
STREAMERS = list(FLAVOR_OF)
TEXT = "Cirrus are high and wispy; cumulus are puffy; stratus are flat grey sheets."
FAST = providers_timeouts(first_token_ms=2000, idle_ms=2000)
BOUND_S = 15.0


@pytest.mark.parametrize("name", STREAMERS)
def test_malformed_event_after_commit_is_skipped(daemon_factory, fake, name):
    d = daemon_factory(cfg_mutate=FAST)
    fake.script(mid(name), [], then={"kind": "stream_malformed", "position": "middle", "content": TEXT,
                                     "chunks": 5})
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name, NEXT_OF[name]]}, id=3)
    assert "result" in reply, reply
    res = reply["result"]
    ds = assert_delta_shapes(notes, 3, name)
    assert text_of(ds) == res["content"] == TEXT, "the malformed event is not forwarded, the rest is"
    assert [(a["model"], a["outcome"], a["committed"], a["skipped_events"]) for a in res["attempts"]] == [
        (name, "success", True, 1)], res["attempts"]
    assert reqs(fake, NEXT_OF[name]) == []
    assert H.wait_for(lambda: only_req(fake, name).get("ended") == "done", timeout=10)


@pytest.mark.parametrize("name", ["gpt-4o", "local-llama"])
def test_stream_without_done_succeeds_promptly(daemon_factory, fake, name):
    idle_ms = 10000
    d = daemon_factory(cfg_mutate=providers_timeouts(first_token_ms=idle_ms, idle_ms=idle_ms))
    fake.script(mid(name), [], then={"kind": "stream_no_done", "content": TEXT, "input_tokens": 9,
                                     "output_tokens": 14})
    t0 = time.monotonic()
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [name, NEXT_OF[name]]}, id=4)
    elapsed = time.monotonic() - t0
    assert "result" in reply, f"a stream that finished (finish_reason, usage) but had no [DONE] is a success: {reply}"
    res = reply["result"]
    ds = assert_delta_shapes(notes, 4, name)
    assert text_of(ds) == res["content"] == TEXT
    assert res["finish_reason"] == "stop" and ds[-1]["finish_reason"] == "stop"
    assert res["usage"]["input_tokens"] == 9 and res["usage"]["output_tokens"] == 14
    assert res["latency_ms"] < idle_ms / 2, f"waited for a timeout: latency_ms {res['latency_ms']}"
    assert elapsed < idle_ms / 1000 / 2
    assert only_req(fake, name)["ended"] == "no_done"
    assert reqs(fake, NEXT_OF[name]) == []


def test_per_model_first_token_and_idle_timeouts(daemon_factory, fake):
    """first_token_timeout_ms / idle_timeout_ms in [models.NAME] (no provider-level ones)."""
    d = daemon_factory(cfg_mutate=H.compose(set_model("gpt-4o", first_token_timeout_ms=1500),
                                            set_model("claude-3-5-sonnet", idle_timeout_ms=1500)))
    fake.script(mid("gpt-4o"), [], then="stream_silent")
    fake.script(mid("claude-3-5-sonnet"), [], then={"kind": "stream_stall", "after_chunks": 1, "content": TEXT})
    t0 = time.monotonic()
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": ["gpt-4o", "gemini-pro"]},
                                      id=1)
        assert "result" in reply, reply
        assert reply["result"]["model_used"] == "gemini-pro"
        assert reply["result"]["attempts"][0]["error_type"] == "timeout"
        assert time.monotonic() - t0 < BOUND_S
        t0 = time.monotonic()
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True,
                                          "models": ["claude-3-5-sonnet", "gemini-pro"]}, id=2)
    assert time.monotonic() - t0 < BOUND_S
    err = H.rpc_error(reply, -32006)
    assert (err["data"]["model"], err["data"]["reason"]) == ("claude-3-5-sonnet", "timeout")
    assert err["data"]["delivered"]["content_chars"] == len(text_of(deltas(notes))) > 0
    assert H.wait_for(lambda: only_req(fake, "claude-3-5-sonnet").get("ended") == "stalled_client_closed", 15)
    assert H.wait_for(lambda: only_req(fake, "gpt-4o").get("ended") == "silent_client_closed", 15)


# without streaming, the stream fault steps act like their non-streaming twins (Tests/fakes/fake_providers.py)
NON_STREAMING = [
    ("gpt-4o", "stall_body", "timeout"),
    ("gpt-4o", "stream_stall", "timeout"),
    ("gpt-4o", "stream_cut", "timeout"),
    ("gpt-4o", "stream_silent", "timeout"),
    ("gpt-4o", "stream_slow_first:30000", "timeout"),
    ("gpt-4o", "stream_reset", "connection"),
    ("gpt-4o", "stream_malformed", "bad_response"),
    ("gpt-4o", "stream_error_event", "server_error"),
    ("claude-3-5-sonnet", "stream_error_event", "overloaded"),
    ("claude-3-5-sonnet", "stall_body", "timeout"),
    ("gemini-pro", "stream_stall", "timeout"),
    ("gemini-pro", "stream_reset", "connection"),
]


@pytest.mark.parametrize("name,kind,etype", NON_STREAMING)
def test_fault_steps_without_streaming_fail_over(daemon_factory, fake, name, kind, etype):
    nxt = NEXT_OF[name]
    d = daemon_factory(cfg_mutate=H.compose(FAST, set_model(name, timeout_ms=3000)))
    fake.script(mid(name), [], then=kind)
    t0 = time.monotonic()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[name, nxt]), timeout=30)
    assert time.monotonic() - t0 < BOUND_S
    assert res["model_used"] == nxt
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [(name, etype), (nxt, None)], res["attempts"]
    assert all(a["committed"] is False for a in res["attempts"]), "nothing is committed without streaming"
    r = only_req(fake, name)
    assert r["stream_requested"] is False and r["stream"] is False, r
    if etype == "timeout":
        assert H.wait_for(lambda: only_req(fake, name).get("ended") in ("client_closed", "silent_client_closed"),
                          timeout=15), only_req(fake, name)


def test_stream_no_done_without_streaming_is_ok(daemon, fake):
    fake.script(mid("gpt-4o"), [], then={"kind": "stream_no_done", "content": TEXT})
    res = H.bounded(lambda: H.complete_ok(daemon, MSGS, models=["gpt-4o"]))
    assert res["content"] == TEXT and res["finish_reason"] == "stop"


def _in_flight(d):
    return d.call("status")["in_flight"]


@pytest.mark.parametrize("step,fake_end", [
    ({"kind": "hold"}, "client_closed"),
    ({"kind": "stream_stall", "after_chunks": 2, "content": TEXT}, "stalled_client_closed"),
])
def test_client_disconnect_cancels_the_stream(daemon_factory, fake, step, fake_end):
    # long timeouts: only the client going away can end these requests before the fake's 60 s
    d = daemon_factory(cfg_mutate=providers_timeouts(first_token_ms=45000, idle_ms=45000))
    fake.script(mid("gpt-4o"), [step])
    c = d.conn(30)
    c.send({"jsonrpc": "2.0", "id": 1, "method": "complete",
            "params": {"messages": MSGS, "stream": True, "models": ["gpt-4o", "claude-3-5-sonnet"]}})
    if step["kind"] == "hold":
        assert H.wait_for(lambda: len(reqs(fake, "gpt-4o")) == 1, timeout=15), "the request never reached the fake"
    else:
        first = c.recv(15)
        assert first["method"] == "complete.delta" and first["params"]["delta"].get("content"), first
        assert H.wait_for(lambda: "stalled_after_chunks" in only_req(fake, "gpt-4o"), timeout=15)
    assert _in_flight(d) == 1
    c.close()
    assert H.wait_for(lambda: _in_flight(d) == 0, timeout=15), f"in-flight slot not freed: {d.call('status')}"
    assert H.wait_for(lambda: only_req(fake, "gpt-4o").get("ended") == fake_end, timeout=15), \
        f"upstream call not cancelled: {only_req(fake, 'gpt-4o').get('ended')!r}"
    rows = H.wait_count(lambda: H.flushed_rows(d), 1, what="call-log rows")
    assert [(r["model_name"], r["success"], r["error_type"]) for r in rows] == [("gpt-4o", 0, "cancelled")], rows
    assert reqs(fake, "claude-3-5-sonnet") == [], "a cancelled request does not fall back"
    # the daemon still serves
    with d.conn(30) as c2:
        notes, reply = stream_request(c2, {"messages": MSGS, "stream": True, "models": ["gpt-4o"]}, id=2)
    assert "result" in reply and text_of(deltas(notes)) == reply["result"]["content"]
