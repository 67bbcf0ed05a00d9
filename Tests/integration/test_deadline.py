"""Deadlines: hanging and stalling providers are cut, replies come within timeout_ms plus a generous margin.

The bounds here are correctness bounds, not benchmarks: what they rule out is waiting for the 15 s
per-attempt provider timeout (tests/config: providers' timeout_ms), the fake's 60 s hang, or a far
longer request deadline. MARGIN_S is wide enough for a machine with every core busy, and every bound
stays well below the thing it rules out.
"""

import time

import pytest

import fbd_harness as H

MSGS = [{"role": "user", "content": "Will this finish in time?"}]
MARGIN_S = 5.0
PROVIDER_TIMEOUT_S = 15.0  # [providers.*].timeout_ms in the test config: what a missed deadline waits for


def model_id(name):
    return H.POOL[name].model_id


def timed_request(conn, params, timeout=30):
    t0 = time.monotonic()
    reply = conn.request("complete", params, timeout=timeout)
    return reply, time.monotonic() - t0


def test_hang_primary_within_deadline(daemon, conn, fake):
    """Primary hangs, timeout_ms=500: either -32002, or the fallback answered; in both cases in time."""
    fake.script(model_id("gpt-4o"), [], then="hang")
    reply, elapsed = timed_request(conn, {"messages": MSGS, "models": ["gpt-4o", "claude-3-haiku"], "timeout_ms": 500})
    assert elapsed < 0.5 + MARGIN_S, f"reply after {elapsed:.2f} s"
    if "error" in reply:
        err = reply["error"]
        assert err["code"] == -32002, err
        data = err["data"]
        assert data["chain"] == "explicit" and data["task"] == "default"
        assert isinstance(data["request_id"], str) and data["request_id"]
        assert data["attempts"][0]["model"] == "gpt-4o"
        assert data["attempts"][0]["error_type"] == "timeout"
    else:
        r = reply["result"]
        assert r["model_used"] == "claude-3-haiku"
        assert r["attempts"][0]["model"] == "gpt-4o"
        assert r["attempts"][0]["error_type"] == "timeout"
    assert conn.call("ping") == "pong"


def test_hang_single_model_deadline_exceeded(daemon, conn, fake):
    fake.script(model_id("gemini-pro"), [], then="hang")
    reply, elapsed = timed_request(conn, {"messages": MSGS, "models": ["gemini-pro"], "timeout_ms": 700})
    assert elapsed < 0.7 + MARGIN_S, f"reply after {elapsed:.2f} s"
    err = reply["error"]
    assert err["code"] == -32002
    att = err["data"]["attempts"]
    assert len(att) == 1
    assert att[0]["model"] == "gemini-pro"
    assert att[0]["outcome"] == "error"
    assert att[0]["error_type"] == "timeout"
    assert att[0]["latency_ms"] < 700 + MARGIN_S * 1000


def test_deadline_exceeded_client(client, client_errors, fake):
    _, DeadlineExceeded, _ = client_errors
    fake.script(model_id("claude-3-5-sonnet"), [], then="hang")
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded) as ei:
        H.bounded(lambda: client.complete(MSGS, models=["claude-3-5-sonnet"], timeout_ms=600), timeout=30)
    assert time.monotonic() - t0 < 0.6 + MARGIN_S
    assert ei.value.code == -32002
    data = H.to_plain(ei.value.data)
    assert data["attempts"][0]["error_type"] == "timeout"


def test_per_model_timeout_then_fallback(daemon, conn, fake):
    """gpt-4o-quick has timeout_ms = 400 in its model entry: it is cut there and the chain goes on."""
    fake.script(model_id("gpt-4o-quick"), [], then="hang")
    # the request's own deadline (60 s) and the provider timeout (15 s) are far beyond the bounds below
    reply, elapsed = timed_request(
        conn, {"messages": MSGS, "models": ["gpt-4o-quick", "claude-3-haiku"], "timeout_ms": 60000}
    )
    assert "result" in reply, reply
    r = reply["result"]
    assert r["model_used"] == "claude-3-haiku"
    assert r["fallback_count"] == 1
    a0 = r["attempts"][0]
    assert a0["model"] == "gpt-4o-quick" and a0["error_type"] == "timeout"
    assert 350 <= a0["latency_ms"] < 400 + MARGIN_S * 1000
    assert elapsed < 0.4 + 2 * MARGIN_S < PROVIDER_TIMEOUT_S


@pytest.mark.parametrize("pool_name", ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"])
def test_stall_body_cut_at_deadline(daemon, conn, fake, pool_name):
    """Headers and part of the body arrive, then nothing: the attempt ends at the deadline."""
    fake.script(model_id(pool_name), [], then="stall_body")
    reply, elapsed = timed_request(conn, {"messages": MSGS, "models": [pool_name], "timeout_ms": 800})
    assert elapsed < 0.8 + MARGIN_S, f"reply after {elapsed:.2f} s"
    err = reply["error"]
    assert err["code"] == -32002, err
    att = err["data"]["attempts"]
    assert len(att) == 1 and att[0]["model"] == pool_name
    assert att[0]["error_type"] == "timeout"
    assert conn.call("ping") == "pong"


def test_stall_body_per_model_timeout_then_fallback(daemon, conn, fake):
    fake.script(model_id("gpt-4o-quick"), [], then="stall_body")
    reply, elapsed = timed_request(
        conn, {"messages": MSGS, "models": ["gpt-4o-quick", "gemini-flash"], "timeout_ms": 60000}
    )
    r = reply["result"]
    assert r["model_used"] == "gemini-flash"
    assert r["attempts"][0]["error_type"] == "timeout"
    assert r["attempts"][0]["latency_ms"] < 400 + MARGIN_S * 1000
    assert elapsed < 0.4 + 2 * MARGIN_S < PROVIDER_TIMEOUT_S


@pytest.mark.parametrize("kind", ["hang", "stall_body"])
def test_deadline_closes_provider_connection(daemon, conn, fake, kind):
    """After the deadline the daemon abandons the HTTP exchange instead of leaving it open."""
    fake.script(model_id("gpt-4o"), [], then=kind)
    reply, _ = timed_request(conn, {"messages": MSGS, "models": ["gpt-4o"], "timeout_ms": 500})
    assert reply["error"]["code"] == -32002
    ended = H.wait_for(lambda: fake.requests(model="gpt-4o")[0].get("ended"))
    assert ended == "client_closed", fake.requests(model="gpt-4o")


def test_slow_model_within_deadline(daemon, conn, fake):
    fake.script(model_id("gpt-4o"), ["slow:300"])
    reply, elapsed = timed_request(conn, {"messages": MSGS, "models": ["gpt-4o"], "timeout_ms": 5000})
    r = reply["result"]
    assert r["model_used"] == "gpt-4o"
    assert r["fallback_count"] == 0
    assert r["attempts"][0]["latency_ms"] >= 250
    assert r["latency_ms"] >= 250
    assert elapsed >= 0.25


def test_many_concurrent_deadlines(daemon, fake):
    """Ten requests on ten connections against a hanging model all get -32002 in time."""
    fake.script(model_id("gpt-4o-mini"), [], then="hang")
    conns = [daemon.conn() for _ in range(10)]
    try:
        t0 = time.monotonic()
        for i, c in enumerate(conns):
            c.send({"jsonrpc": "2.0", "id": i, "method": "complete",
                    "params": {"messages": MSGS, "models": ["gpt-4o-mini"], "timeout_ms": 600}})
        for i, c in enumerate(conns):
            reply = c.recv(timeout=30)
            assert reply["id"] == i
            assert reply["error"]["code"] == -32002
        assert time.monotonic() - t0 < 0.6 + 2 * MARGIN_S < PROVIDER_TIMEOUT_S
    finally:
        for c in conns:
            c.close()
    assert daemon.call("ping") == "pong"
