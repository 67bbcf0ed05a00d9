"""Outage conduct, Retry-After (issue 10): a 429/503 with Retry-After parks the model for every request until
then (route reason rate_limited_until with until/until_ms); the request that heard it moves on at once when
another model is left; a request whose every model is parked waits for the first to come back when that is
before its deadline. Real daemon, fake providers.

Retries and breakers are the harness's (off): parking is its own rule, not a retry or a breaker.
"""

import threading

import pytest

import fbd_harness as H

MSGS = [{"role": "user", "content": "Are you rate limited?"}]
DEFAULT = H.CHAINS["default"]  # gpt-4o, claude-3-5-sonnet, gemini-pro


def mid(name):
    return H.POOL[name].model_id


def reqs(fake, name):
    return sorted(fake.requests(model=mid(name)), key=lambda r: r["seq"])


def no_reorder(cfg):
    cfg["health"] = {"degraded_below": 0.0}


@pytest.mark.parametrize("kind", ["rate_limited", "unavailable"])
def test_retry_after_parks_the_model_for_every_request(daemon_factory, fake, kind):
    d = daemon_factory(cfg_mutate=no_reorder)
    # a 30 s Retry-After from the primary, which would answer every later call
    fake.script(mid("gpt-4o"), [{"kind": kind, "retry_after": 30}], then="ok")
    t0 = H.now_ms()
    first = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000), timeout=40)
    t1 = H.now_ms()
    # the request that heard it: served by the next model at once (no 30 s wait, no retry)
    assert first["model_used"] == "claude-3-5-sonnet", first
    assert [a["model"] for a in first["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"], first["attempts"]
    assert first["attempts"][0]["http_status"] == (429 if kind == "rate_limited" else 503)
    assert first["latency_ms"] < 10_000, f"{first['latency_ms']} ms: it waited for part of the Retry-After"
    # the next requests skip the primary without calling it, with the parking's end in their route
    for _ in range(3):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000))
        assert res["model_used"] == "claude-3-5-sonnet"
        assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"], res["attempts"]
        e = H.route_entry(res["route"], "gpt-4o")
        assert e["reason"] == "rate_limited_until", res["route"]
        assert isinstance(e["until"], str) and e["until"].endswith("Z"), e
        assert t0 + 30_000 - 50 <= e["until_ms"] <= t1 + 30_000 + 50, (t0, e, t1)
        assert res["route"][0] == {"model": "claude-3-5-sonnet", "place": 1, "reason": "healthy"}, res["route"]
    # `route` shows it too, and it is not a breaker
    r = d.call("route", {"task": "default"})
    assert H.route_entry(r["route"], "gpt-4o")["reason"] == "rate_limited_until", r
    assert H.breaker_of(d, "gpt-4o")["state"] == "closed"
    assert len(reqs(fake, "gpt-4o")) == 1, "a parked model was called"


def test_parking_ends_at_until_and_the_primary_serves_again(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=no_reorder)
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 2}], then="ok")
    first = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000))
    assert first["model_used"] == "claude-3-5-sonnet"
    parked = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000))
    until_ms = H.route_entry(parked["route"], "gpt-4o")["until_ms"]
    assert len(reqs(fake, "gpt-4o")) == 1
    # wait for `until` to pass on the wall clock (a condition; the bound is generous)
    assert H.wait_for(lambda: H.now_ms() > until_ms + 20, timeout=30, interval=0.05)
    back = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000))
    assert back["model_used"] == "gpt-4o", back
    assert [a["model"] for a in back["attempts"]] == ["gpt-4o"]
    assert H.route_entry(back["route"], "gpt-4o")["reason"] == "healthy"
    got = reqs(fake, "gpt-4o")
    assert len(got) == 2
    assert got[1]["ts"] * 1000 >= until_ms - 5, "the primary was called before its Retry-After ended"


def test_no_retry_after_violations_in_a_burst(daemon_factory, fake):
    # a 30 s Retry-After, then a burst of 50 requests, 10 at a time: the parked model gets no call inside
    # its window (it would answer ok, so a violation would also show as a request it served)
    d = daemon_factory(cfg_mutate=no_reorder)
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 30}], then="ok")
    first = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=30000))
    assert first["model_used"] == "claude-3-5-sonnet"
    parked_at = reqs(fake, "gpt-4o")[0]["ts"]
    results, errors = [], []
    lock = threading.Lock()

    def worker(n):
        for _ in range(n):
            try:
                r = H.complete_reply(d, MSGS, timeout=30, timeout_ms=30000)
            except Exception as e:  # noqa: BLE001 - reported below
                r = {"exception": repr(e)}
            with lock:
                (results if "result" in r else errors).append(r)

    threads = [threading.Thread(target=worker, args=(5,), daemon=True) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "burst requests did not finish"
    assert errors == [] and len(results) == 50, errors[:3]
    until_ms = max(H.route_entry(r["result"]["route"], "gpt-4o").get("until_ms", 0) for r in results)
    violations = [r for r in reqs(fake, "gpt-4o")[1:] if r["ts"] * 1000 < until_ms]
    assert len(violations) == 0, f"{len(violations)} calls to the parked model inside its Retry-After window"
    assert all(r["result"]["model_used"] == "claude-3-5-sonnet" for r in results)
    assert all(H.route_entry(r["result"]["route"], "gpt-4o")["reason"] == "rate_limited_until" for r in results)
    assert until_ms >= parked_at * 1000 + 29_000


def test_every_model_parked_waits_for_the_first_back_within_the_deadline(daemon_factory, fake):
    # both models of the chain parked: a request waits for the first to come back (2 s) instead of failing
    d = daemon_factory(cfg_mutate=no_reorder)
    two = ["gpt-4o", "claude-3-5-sonnet"]
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 2}], then="ok")
    fake.script(mid("claude-3-5-sonnet"), [{"kind": "rate_limited", "retry_after": 30}], then="ok")
    first = H.bounded(lambda: H.complete_reply(d, MSGS, models=two, timeout_ms=10000))
    assert first["error"]["code"] == -32001, first  # both answered 429 (retries are off)
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=two, timeout_ms=10000), timeout=30)
    assert res["model_used"] == "gpt-4o", res
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o"], res["attempts"]
    claude = H.route_entry(res["route"], "claude-3-5-sonnet")
    assert claude["reason"] == "rate_limited_until", res["route"]
    got = reqs(fake, "gpt-4o")
    gpt_until = got[0]["ts"] + 2
    claude_until = claude["until_ms"] / 1000
    assert got[1]["ts"] >= gpt_until - 0.05, "called before its Retry-After ended"
    assert got[1]["ts"] < claude_until
    assert len(reqs(fake, "claude-3-5-sonnet")) == 1


def test_every_model_parked_beyond_the_deadline_fails_at_once(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=no_reorder)
    two = ["gpt-4o", "claude-3-5-sonnet"]
    for m in two:
        fake.script(mid(m), [{"kind": "rate_limited", "retry_after": 30}], then="ok")
    H.bounded(lambda: H.complete_reply(d, MSGS, models=two, timeout_ms=10000))
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=two, timeout_ms=5000), timeout=30)
    err = reply.get("error")
    assert err and err["code"] == -32003, reply
    assert err["data"]["attempts"] == []
    assert [e["reason"] for e in err["data"]["route"]] == ["rate_limited_until"] * 2, err["data"]["route"]
    assert all("until_ms" in e for e in err["data"]["route"])
    retry_after = err["data"]["retry_after_ms"]
    assert isinstance(retry_after, int) and 20_000 < retry_after <= 30_000, err["data"]
    # The daemon's own account: a request that waited toward its 5 s deadline would say so here.
    assert err["data"]["latency_ms"] < 2_500, f"it waited {err['data']['latency_ms']} ms although nothing comes back in time"
    assert len(reqs(fake, "gpt-4o")) == 1 and len(reqs(fake, "claude-3-5-sonnet")) == 1


@pytest.mark.parametrize("primary,kind", [("claude-3-5-sonnet", "rate_limited"), ("gemini-pro", "rate_limited"),
                                          ("claude-3-5-sonnet", "overloaded"), ("gemini-pro", "unavailable")])
def test_every_flavor_of_retry_after_parks(daemon_factory, fake, primary, kind):
    # Anthropic's retry-after header (429, 529) and Gemini's RetryInfo retryDelay (429, 503) park the same
    # way as OpenAI's headers
    d = daemon_factory(cfg_mutate=no_reorder)
    models = [primary, "gpt-4o-mini"]
    fake.script(mid(primary), [{"kind": kind, "retry_after": 30}], then="ok")
    t0 = H.now_ms()
    first = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=30000))
    assert first["model_used"] == "gpt-4o-mini"
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=30000))
    e = H.route_entry(res["route"], primary)
    assert e["reason"] == "rate_limited_until", res["route"]
    assert t0 + 29_000 <= e["until_ms"] <= H.now_ms() + 30_000 + 50, e
    assert len(reqs(fake, primary)) == 1
