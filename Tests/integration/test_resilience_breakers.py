"""Circuit breakers, degraded reordering, all-open behaviour, operator methods and `report`,
against the real daemon and the fake providers.

fbd_harness.config_dict turns breakers and retries off (the seed's plain waterfall); every test
here turns on what it needs through cfg_mutate (H.resilience(...)). Health reordering is switched
off (degraded_below = 0) except where it is the subject, so it cannot reorder chains behind a
breaker test's back.
"""

import threading
import time

import pytest

import fbd_harness as H

MSGS = [{"role": "user", "content": "Is the primary up?"}]
LONG_OPEN = 600_000
NO_REORDER = {"degraded_below": 0.0}
NO_RETRY = {"max_retries": 0}


def mid(name):
    return H.POOL[name].model_id


def breaker_cfg(**kw):
    base = {"consecutive_failures": 3, "failure_rate": 0, "open_ms": LONG_OPEN, "auth_open_ms": 3_600_000}
    base.update(kw)
    return base


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


# --------------------------------------------------------------------------- outage: trip after 3, then skip


def test_outage_trips_after_threshold_and_fallback_serves_everything(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    fake.script(mid("gpt-4o"), [], then="server_error")
    results = []
    t_trip = None
    for i in range(30):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        results.append(res)
        if i == 2:
            t_trip = H.now_ms()
    assert all(r["model_used"] == "claude-3-5-sonnet" for r in results), [r["model_used"] for r in results]
    # the primary saw exactly the threshold: 3 failures, then the open breaker kept traffic away
    assert n_requests(fake, "gpt-4o") == 3
    assert n_requests(fake, "claude-3-5-sonnet") == 30
    for r in results[:3]:
        assert [a["model"] for a in r["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"]
        assert r["attempts"][0]["error_type"] == "server_error"
        assert H.route_entry(r["route"], "gpt-4o")["reason"] == "healthy"
    untils = []
    for r in results[3:]:
        assert [a["model"] for a in r["attempts"]] == ["claude-3-5-sonnet"], r["attempts"]
        # the chain's primary was passed over (its breaker was open): that is a fallback
        assert r["fallback_count"] == 1 and r["used_fallback"] is True
        e = H.route_entry(r["route"], "gpt-4o")
        assert e["reason"] == "open", r["route"]
        assert isinstance(e.get("until"), str) and e["until"].endswith("Z"), e
        assert e["place"] == len(r["route"]), "an open model is listed after the tried ones"
        untils.append(e["until_ms"])
        assert r["route"][0]["model"] == "claude-3-5-sonnet" and r["route"][0]["reason"] == "healthy"
    # one open period: the same `until` in every result, about open_ms after the trip
    assert max(untils) - min(untils) <= 50, untils
    assert t_trip - 5000 + LONG_OPEN <= untils[0] <= t_trip + LONG_OPEN + 50, (untils[0], t_trip)

    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open"
    assert b["until"] is not None and abs(b["until_ms"] - untils[0]) <= 50
    assert "3 consecutive failures" in (b["last_trip_reason"] or ""), b
    assert b["trips"] == 1 and b["level"] == 1 and b["misconfigured"] is False
    assert H.breaker_of(d, "claude-3-5-sonnet")["state"] == "closed"

    h = H.health_of(d, "gpt-4o")
    assert h["calls"] == 3 and h["successes"] == 0 and h["success_rate"] == 0
    assert h["breaker"] == "open" and isinstance(h["breaker_until"], str)
    hc = H.health_of(d, "claude-3-5-sonnet")
    assert hc["calls"] == 30 and hc["successes"] == 30 and hc["success_rate"] == 1
    assert hc["breaker"] == "closed" and hc["breaker_until"] is None


def test_per_model_breaker_override(daemon_factory, fake):
    # [models.gpt-4o.breaker] consecutive_failures = 5 over [breaker] consecutive_failures = 3
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER,
                                               model_breakers={"gpt-4o": {"consecutive_failures": 5}}))
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    for _ in range(8):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
        H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-mini", "claude-3-5-sonnet"], timeout_ms=10000))
    assert n_requests(fake, "gpt-4o") == 5
    assert n_requests(fake, "gpt-4o-mini") == 3
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    assert H.breaker_of(d, "gpt-4o-mini")["state"] == "open"


# --------------------------------------------------------------------------- half-open


def _trip(d, fake, models=("gpt-4o", "claude-3-5-sonnet"), n=3):
    for _ in range(n):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=list(models), timeout_ms=10000))
        assert res["model_used"] == models[1]


def test_half_open_single_probe_success_closes(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(open_ms=300), retry=NO_RETRY, health=NO_REORDER))
    # 3 failures trip it; the probe answers ok, but slowly, so a second request can see it in flight
    fake.script(mid("gpt-4o"), ["server_error"] * 3 + ["slow:1500"], then="ok")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    _trip(d, fake)
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    b = H.wait_breaker_state(d, "gpt-4o", "half_open", timeout=10)
    assert b["until"] is None and b["probes_in_flight"] == 0

    box = {}

    def probe():
        box["reply"] = H.complete_reply(d, MSGS, models=models, timeout_ms=10000)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 4, timeout=10), "the probe never reached the fake"
        # while the one probe is out, other requests skip the model
        other = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        assert other["model_used"] == "claude-3-5-sonnet"
        assert [a["model"] for a in other["attempts"]] == ["claude-3-5-sonnet"]
        assert H.route_entry(other["route"], "gpt-4o")["reason"] == "probe_busy", other["route"]
        b = H.breaker_of(d, "gpt-4o")
        assert b["state"] == "half_open" and b["probes_in_flight"] == 1, b
        assert n_requests(fake, "gpt-4o") == 4, "a second probe went through"
        # a chain of just that model has nothing to call: -32003, and no reopening time to promise
        alone = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o"], timeout_ms=10000))
        assert alone.get("error", {}).get("code") == -32003, alone
        assert alone["error"]["data"]["retry_after_ms"] is None
        assert [e["reason"] for e in alone["error"]["data"]["route"]] == ["probe_busy"]
        assert n_requests(fake, "gpt-4o") == 4
    finally:
        t.join(20)
    assert not t.is_alive(), "probe request did not finish"
    reply = box["reply"]
    assert "error" not in reply, reply
    res = reply["result"]
    assert res["model_used"] == "gpt-4o" and res["fallback_count"] == 0
    assert H.route_entry(res["route"], "gpt-4o")["reason"] == "half_open_probe"
    assert res["route"][0]["model"] == "gpt-4o", "a half-open model keeps its configured place"

    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed" and b["until"] is None and b["consecutive_failures"] == 0, b
    # served by the primary again
    for _ in range(3):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        assert res["model_used"] == "gpt-4o"
        assert H.route_entry(res["route"], "gpt-4o")["reason"] == "healthy"
    assert n_requests(fake, "gpt-4o") == 7


def test_half_open_probe_failure_reopens_longer(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(open_ms=300, backoff_multiplier=2.0),
                                               retry=NO_RETRY, health=NO_REORDER))
    fake.script(mid("gpt-4o"), [], then="server_error")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    t0 = H.now_ms()
    _trip(d, fake)
    t1 = H.now_ms()
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open" and b["level"] == 1 and b["trips"] == 1
    prev_until = b["until_ms"]
    assert t0 + 300 - 50 <= prev_until <= t1 + 300 + 50, (t0, prev_until, t1)
    sent_to_primary = 3
    for level, duration in ((2, 600), (3, 1200)):
        H.wait_breaker_state(d, "gpt-4o", "half_open", timeout=10)
        before = H.now_ms()
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        after = H.now_ms()
        sent_to_primary += 1
        assert n_requests(fake, "gpt-4o") == sent_to_primary, "exactly one probe per half-open period"
        assert res["model_used"] == "claude-3-5-sonnet"
        assert [a["model"] for a in res["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"]
        assert H.route_entry(res["route"], "gpt-4o")["reason"] == "half_open_probe"
        b = H.breaker_of(d, "gpt-4o")
        assert b["state"] == "open", b
        assert b["level"] == level and b["trips"] == level, b
        assert b["last_trip_reason"] == "probe failed", b
        # reopened for the next level's duration, counted from the probe's end
        assert b["until_ms"] > prev_until
        assert before + duration - 50 <= b["until_ms"] <= after + duration + 50, (before, b["until_ms"], after)
        prev_until = b["until_ms"]
        # and while it is open again, nothing goes to the primary
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet"
        assert H.route_entry(res["route"], "gpt-4o")["reason"] == "open"
        assert n_requests(fake, "gpt-4o") == sent_to_primary


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize("consecutive", [3, 0], ids=["rules_on", "rules_off"])
@pytest.mark.parametrize("kind", ["auth", "forbidden"])
def test_auth_failure_opens_at_once_misconfigured(daemon_factory, fake, consecutive, kind):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=consecutive),
                                               retry={"max_retries": 2}, health=NO_REORDER))
    fake.script(mid("gpt-4o"), [], then=kind)
    t0 = H.now_ms()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [("gpt-4o", "auth"), ("claude-3-5-sonnet", None)]
    assert n_requests(fake, "gpt-4o") == 1, "auth errors are not retried"
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open", b
    assert b["misconfigured"] is True, b
    assert "auth" in (b["last_trip_reason"] or ""), b
    assert b["level"] == 0, "an auth trip leaves the growth level alone"
    assert t0 + 3_600_000 - 5000 <= b["until_ms"] <= H.now_ms() + 3_600_000 + 50, b
    # the next requests skip it
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet" and res["attempts"][0]["model"] == "claude-3-5-sonnet"
    assert n_requests(fake, "gpt-4o") == 1
    # breaker.reset clears the flag
    r = d.call("breaker.reset", {"model": "gpt-4o"})
    assert r["state"] == "closed" and r["misconfigured"] is False


# --------------------------------------------------------------------------- failure-rate rule


def test_failure_rate_trips_only_after_minimum_calls(daemon_factory, fake):
    cfg = breaker_cfg(consecutive_failures=0, failure_rate=0.5, window=10, minimum_calls=6)
    d = daemon_factory(cfg_mutate=H.resilience(breaker=cfg, retry=NO_RETRY, health=NO_REORDER))
    fake.script(mid("gpt-4o"), ["ok", "server_error"] * 10, then="ok")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    for n in range(1, 6):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        assert res["attempts"][0]["model"] == "gpt-4o"
        b = H.breaker_of(d, "gpt-4o")
        assert b["state"] == "closed", (
            f"BUG: failure-rate rule tripped after {n} calls (failure rate {n // 2}/{n}), below "
            f"minimum_calls = 6. CircuitBreaker.tripReason (Breaker/CircuitBreaker+Recording.swift) guards "
            f"the rate rules with `window.count >= 1` instead of `policy.effectiveMinimumCalls`. breaker: {b}"
        )
        assert b["calls_in_window"] == n
        assert b["failure_rate"] is None, "failure_rate is null below minimum_calls"
    # the 6th call (a failure) brings the window to minimum_calls at rate 0.5: trip
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["attempts"][0]["error_type"] == "server_error"
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open", b
    assert "failure rate" in (b["last_trip_reason"] or ""), b
    assert n_requests(fake, "gpt-4o") == 6
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet" and n_requests(fake, "gpt-4o") == 6


def test_consecutive_count_resets_on_success(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    # never 3 failures in a row
    fake.script(mid("gpt-4o"), ["server_error", "server_error", "ok"] * 4, then="ok")
    for _ in range(12):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed" and b["trips"] == 0, b
    assert n_requests(fake, "gpt-4o") == 12


def test_slow_call_rate_trips(daemon_factory, fake):
    cfg = breaker_cfg(consecutive_failures=0, failure_rate=0, slow_call_ms=200, slow_call_rate=0.5, window=4,
                      minimum_calls=2)
    d = daemon_factory(cfg_mutate=H.resilience(breaker=cfg, retry=NO_RETRY, health=NO_REORDER))
    fake.script(mid("gpt-4o"), ["slow:400", "slow:400"], then="ok")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o"  # slow, but a success
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed" and b["slow_rate"] is None and b["calls_in_window"] == 1, b
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o"
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open", b
    assert "slow" in (b["last_trip_reason"] or ""), b
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert n_requests(fake, "gpt-4o") == 2


def test_call_under_way_at_reset_does_not_count(daemon_factory, fake):
    # gpt-4o-quick times out after 400 ms per attempt; one failure would trip it
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1), retry=NO_RETRY,
                                               health=NO_REORDER))
    fake.script(mid("gpt-4o-quick"), ["hang"], then="ok")
    box = {}
    t = threading.Thread(target=lambda: box.setdefault(
        "reply", H.complete_reply(d, MSGS, models=["gpt-4o-quick", "claude-3-5-sonnet"], timeout_ms=10000)),
        daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o-quick") == 1, timeout=10)
        assert d.call("breaker.isolate", {"model": "gpt-4o-quick"})["state"] == "isolated"
        assert d.call("breaker.reset", {"model": "gpt-4o-quick"})["state"] == "closed"
    finally:
        t.join(20)
    assert not t.is_alive()
    res = box["reply"]["result"]
    assert res["model_used"] == "claude-3-5-sonnet"
    assert res["attempts"][0]["model"] == "gpt-4o-quick" and res["attempts"][0]["error_type"] == "timeout"
    b = H.breaker_of(d, "gpt-4o-quick")
    assert b["state"] == "closed" and b["consecutive_failures"] == 0 and b["calls_in_window"] == 0, (
        f"a call started before breaker.reset counted toward the new closed period: {b}")
    # the timeout still counts toward health
    assert H.health_of(d, "gpt-4o-quick")["calls"] == 1


# --------------------------------------------------------------------------- degraded reordering


def test_degraded_model_moves_to_end(daemon_factory, fake):
    loose = breaker_cfg(consecutive_failures=0, failure_rate=0)
    d = daemon_factory(cfg_mutate=H.resilience(breaker=loose, retry=NO_RETRY))  # default [health]: 0.8, 5 calls
    fake.script(mid("gpt-4o"), [], then="server_error")
    for n in range(1, 5):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        assert [a["model"] for a in res["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"]
        # fewer than minimum_calls: never judged, keeps its place
        r = d.call("route", {"task": "default"})
        assert [e["model"] for e in r["route"]] == ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"], r
        assert r["route"][0]["reason"] == "healthy"
    H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))  # 5th failure
    assert n_requests(fake, "gpt-4o") == 5
    r = d.call("route", {"task": "default"})
    assert r["chain"] == "default" and r["task"] == "default"
    assert [e["model"] for e in r["route"]] == ["claude-3-5-sonnet", "gemini-pro", "gpt-4o"], r
    assert [e["reason"] for e in r["route"]] == ["healthy", "healthy", "degraded"], r
    assert [e["place"] for e in r["route"]] == [1, 2, 3]
    h = H.health_of(d, "gpt-4o")
    assert h["degraded"] is True and h["calls"] == 5 and h["breaker"] == "closed", h
    # the healthy model is tried first; the degraded one is not called
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"]
    assert H.route_entry(res["route"], "gpt-4o")["reason"] == "degraded"
    assert n_requests(fake, "gpt-4o") == 5
    # ...but it is still tried as a last resort
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    fake.script(mid("gemini-pro"), [], then="server_error")
    fake.script(mid("gpt-4o"), [], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet", "gemini-pro", "gpt-4o"]
    assert res["model_used"] == "gpt-4o"


# --------------------------------------------------------------------------- every breaker open


def test_all_open_fails_fast(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1), retry=NO_RETRY,
                                               health=NO_REORDER))
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=models, timeout_ms=10000))
    assert reply["error"]["code"] == -32001, reply
    assert len(fake.requests()) == 2
    time.sleep(0.3)  # let the call log flush, so a -32003 row would show
    rows_before = len(d.db_rows())
    t0 = time.monotonic()
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=models, timeout_ms=10000))
    elapsed = time.monotonic() - t0
    err = reply.get("error")
    assert err and err["code"] == -32003, reply
    data = err["data"]
    assert isinstance(data["retry_after_ms"], int) and 0 < data["retry_after_ms"] <= LONG_OPEN, data
    assert data["attempts"] == []
    assert data["chain"] == "explicit"
    assert {e["model"]: e["reason"] for e in data["route"]} == {"gpt-4o": "open", "claude-3-5-sonnet": "open"}
    assert all("until" in e for e in data["route"])
    assert "open breaker" in err["message"]
    assert len(fake.requests()) == 2, "no provider request when every breaker is open"
    assert elapsed < 2.0
    time.sleep(0.3)
    assert len(d.db_rows()) == rows_before, "-32003 writes no call-log row"
    # the task chain too: default = gpt-4o, claude, gemini-pro; gemini still closed -> served
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "gemini-pro"
    assert [e["reason"] for e in res["route"]] == ["healthy", "open", "open"]


def test_all_isolated_fails_fast_without_retry_after(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(when_all_open="try_least_recent"),
                                               retry=NO_RETRY, health=NO_REORDER))
    for m in ("gpt-4o", "claude-3-5-sonnet"):
        assert d.call("breaker.isolate", {"model": m})["state"] == "isolated"
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    err = reply.get("error")
    assert err and err["code"] == -32003, reply
    assert err["data"]["retry_after_ms"] is None, "no isolated model reopens by itself"
    assert [e["reason"] for e in err["data"]["route"]] == ["isolated", "isolated"]
    assert fake.requests() == [], "isolated models are never probed, even with try_least_recent"


def _panic_setup(daemon_factory, fake):
    """gpt-4o and claude both open (consecutive_failures = 1), claude's failure the older one."""
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1, when_all_open="try_least_recent"),
                                               retry={"max_retries": 2, "base_delay_ms": 1}, health=NO_REORDER))
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    fake.script(mid("gpt-4o"), [], then="server_error")
    r1 = H.bounded(lambda: H.complete_reply(d, MSGS, models=["claude-3-5-sonnet"], timeout_ms=10000))
    assert r1["error"]["code"] == -32001
    time.sleep(0.05)
    r2 = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o"], timeout_ms=10000))
    assert r2["error"]["code"] == -32001
    assert H.breaker_of(d, "claude-3-5-sonnet")["state"] == "open" and H.breaker_of(d, "gpt-4o")["state"] == "open"
    seen = {m: n_requests(fake, m) for m in ("gpt-4o", "claude-3-5-sonnet")}
    assert seen == {"gpt-4o": 1, "claude-3-5-sonnet": 1}, "consecutive_failures = 1 stops retries"
    return d


def test_all_open_try_least_recent_probes_oldest_failure(daemon_factory, fake):
    d = _panic_setup(daemon_factory, fake)
    b_claude = H.breaker_of(d, "claude-3-5-sonnet")
    b_gpt = H.breaker_of(d, "gpt-4o")

    r = d.call("route", {"task": "default"})  # gemini-pro is closed there: no panic
    assert r["route"][0] == {"model": "gemini-pro", "place": 1, "reason": "healthy"}

    # a failing panic probe: sent to claude (oldest failure, though configured second), not retried, -32001
    models = ["gpt-4o", "claude-3-5-sonnet"]
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=models, timeout_ms=10000))
    assert reply.get("error", {}).get("code") == -32001, reply
    data = reply["error"]["data"]
    assert [a["model"] for a in data["attempts"]] == ["claude-3-5-sonnet"], "the panic probe is not retried"
    assert data["route"][0]["model"] == "claude-3-5-sonnet" and data["route"][0]["reason"] == "panic_probe", data["route"]
    assert H.route_entry(data["route"], "gpt-4o")["reason"] == "open"
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "claude-3-5-sonnet") == 2
    # a failed panic probe leaves both breakers' schedules alone
    for before in (b_claude, b_gpt):
        b = H.breaker_of(d, before["model"])
        assert b["state"] == "open" and abs(b["until_ms"] - before["until_ms"]) <= 5 and b["trips"] == 1, (b, before)

    # a working panic probe serves the request
    fake.script(mid("claude-3-5-sonnet"), [], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet", "the probe goes to the model whose last failure is oldest"
    assert res["route"][0]["model"] == "claude-3-5-sonnet" and res["route"][0]["reason"] == "panic_probe", res["route"]
    assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"]
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "claude-3-5-sonnet") == 3
    # the probe counts toward health
    assert H.health_of(d, "claude-3-5-sonnet")["calls"] == 3


def test_panic_probe_success_closes_breaker(daemon_factory, fake):
    # A panic probe that works proves the model is back: its breaker closes (level back to 0), and the
    # other open breakers keep their schedule. (Commit 85dade3; note that docs/protocol.md "When every
    # breaker is open" still says the probe's outcome does not count toward the breaker.)
    d = _panic_setup(daemon_factory, fake)
    other = H.breaker_of(d, "gpt-4o")
    fake.script(mid("claude-3-5-sonnet"), [], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert res["route"][0]["reason"] == "panic_probe"
    after = H.breaker_of(d, "claude-3-5-sonnet")
    assert after["state"] == "closed" and after["until"] is None and after["level"] == 0, after
    g = H.breaker_of(d, "gpt-4o")
    assert g["state"] == "open" and abs(g["until_ms"] - other["until_ms"]) <= 5, (g, other)
    # from now on claude is an ordinary healthy model again
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    assert [(e["model"], e["reason"]) for e in res["route"]] == [("claude-3-5-sonnet", "healthy"), ("gpt-4o", "open")]
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "claude-3-5-sonnet") == 3


def test_breaker_refusing_at_its_turn_shows_reason_and_until(daemon_factory, fake):
    # B plans [gpt-4o-quick, gpt-4o, claude] with every breaker closed; while its first attempt hangs
    # (400 ms per-attempt timeout), A trips gpt-4o. At its turn B finds gpt-4o open and passes it over.
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1), retry=NO_RETRY,
                                               health=NO_REORDER))
    fake.script(mid("gpt-4o-quick"), ["hang"], then="ok")
    fake.script(mid("gpt-4o"), [], then="server_error")
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("reply", H.complete_reply(
        d, MSGS, models=["gpt-4o-quick", "gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000)), daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o-quick") == 1, timeout=10)
        a = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
        assert a["model_used"] == "claude-3-5-sonnet"
        until = H.breaker_of(d, "gpt-4o")["until_ms"]
        assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    finally:
        t.join(20)
    assert not t.is_alive()
    reply = box["reply"]
    assert "error" not in reply, reply
    res = reply["result"]
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o-quick", "claude-3-5-sonnet"]
    assert n_requests(fake, "gpt-4o") == 1, "B must not call a model whose breaker opened meanwhile"
    e = H.route_entry(res["route"], "gpt-4o")
    assert e["reason"] == "open", res["route"]
    assert "until_ms" in e and abs(e["until_ms"] - until) <= 5, (e, until)
    assert res["fallback_count"] == 2


# --------------------------------------------------------------------------- breaker.isolate / breaker.reset


def test_isolate_and_reset(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    b = d.call("breaker.isolate", {"model": "gpt-4o"})
    assert b["model"] == "gpt-4o" and b["state"] == "isolated" and b["until"] is None
    assert "isolated" in (b["last_trip_reason"] or "")
    assert H.breaker_of(d, "gpt-4o")["state"] == "isolated"
    r = d.call("route", {"task": "default"})
    assert [(e["model"], e["reason"]) for e in r["route"]] == [
        ("claude-3-5-sonnet", "healthy"), ("gemini-pro", "healthy"), ("gpt-4o", "isolated")]
    for _ in range(3):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet"
        assert H.route_entry(res["route"], "gpt-4o")["reason"] == "isolated"
    assert n_requests(fake, "gpt-4o") == 0
    assert H.health_of(d, "gpt-4o")["breaker"] == "isolated"

    b = d.call("breaker.reset", {"model": "gpt-4o"})
    assert b["state"] == "closed" and b["level"] == 0
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o"
    assert n_requests(fake, "gpt-4o") == 1


def test_reset_closes_a_tripped_breaker(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    fake.script(mid("gpt-4o"), ["server_error"] * 3, then="ok")
    _trip(d, fake)
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open" and b["level"] == 1 and b["trips"] == 1
    b = d.call("breaker.reset", {"model": "gpt-4o"})
    assert b["state"] == "closed" and b["until"] is None
    assert b["level"] == 0 and b["consecutive_failures"] == 0 and b["calls_in_window"] == 0
    assert b["trips"] == 1, "trips are history, kept by reset"
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
    assert res["model_used"] == "gpt-4o"
    assert n_requests(fake, "gpt-4o") == 4


@pytest.mark.parametrize("method", ["breaker.reset", "breaker.isolate"])
@pytest.mark.parametrize("params", [{"model": "no-such-model"}, {}, {"model": 7}, None])
def test_breaker_methods_reject_bad_model(daemon_factory, fake, method, params):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg()))
    reply = d.request(method, params)
    err = reply.get("error")
    assert err and err["code"] == -32602, reply
    assert err["data"]["field"] == "model", err
    # nothing changed
    assert all(b["state"] == "closed" for b in d.call("breakers")["breakers"])


def test_breakers_lists_every_pool_model(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg()))
    bs = d.call("breakers")["breakers"]
    assert sorted(b["model"] for b in bs) == sorted(H.POOL)
    for b in bs:
        assert b["state"] == "closed" and b["until"] is None and b["trips"] == 0 and b["misconfigured"] is False


# --------------------------------------------------------------------------- report


def _report(d, model="gemini-flash", outcome="error", error_type="server_error", latency_ms=120, **extra):
    params = {"model": model, "outcome": outcome, "latency_ms": latency_ms, **extra}
    if outcome == "error":
        params["error_type"] = error_type
    return d.call("report", params)


def test_report_trips_breaker_of_uncalled_model(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    replies = [_report(d, metadata={"app": "svc-a"}) for _ in range(3)]
    assert [r["counted"] for r in replies] == [True, True, True]
    assert [r["breaker"] for r in replies] == ["closed", "closed", "open"]
    assert all(r["model"] == "gemini-flash" and r["request_id"] for r in replies)
    b = H.breaker_of(d, "gemini-flash")
    assert b["state"] == "open" and "3 consecutive failures" in b["last_trip_reason"], b
    # while open, reports are not counted by the breaker (but still logged and counted by health)
    r4 = _report(d)
    assert r4["counted"] is False and r4["breaker"] == "open"
    assert abs(H.breaker_of(d, "gemini-flash")["until_ms"] - b["until_ms"]) <= 5, "a report while open moves nothing"
    h = H.health_of(d, "gemini-flash")
    assert h["calls"] == 4 and h["successes"] == 0 and h["breaker"] == "open", h

    # fallbackd never called it, and now skips it
    r = d.call("route", {"task": "cheap"})
    assert H.route_entry(r["route"], "gemini-flash")["reason"] == "open"
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    fake.script(mid("claude-3-haiku"), [], then="server_error")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, task="cheap", timeout_ms=10000))
    assert res["model_used"] == "local-llama"
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o-mini", "claude-3-haiku", "local-llama"]
    assert n_requests(fake, "gemini-flash") == 0

    # the reports are in the call log, chain "reported"
    def reported():
        rows = d.db_rows("WHERE chain = ?", ("reported",))
        return rows if len(rows) == 4 else None

    rows = H.wait_for(reported, timeout=5)
    assert rows, f"reported rows not in the call log: {d.db_rows()}"
    assert {r["model_name"] for r in rows} == {"gemini-flash"}
    assert all(r["success"] == 0 and r["error_type"] == "server_error" and r["latency_ms"] == 120 for r in rows)
    assert all(r["task"] == "reported" and r["provider"] == "gemini" for r in rows)
    assert sorted(r["request_id"] for r in rows) == sorted([x["request_id"] for x in replies] + [r4["request_id"]])
    assert '"svc-a"' in (rows[0]["metadata"] or "")


def test_report_success_and_excluded_outcomes(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER))
    # two failures, a success, two failures: never 3 in a row
    for outcome in ("error", "error", "success", "error", "error"):
        r = _report(d, outcome=outcome, task="batch-job",
                    usage={"input_tokens": 1000, "output_tokens": 1000} if outcome == "success" else None)
        assert r["counted"] is True and r["breaker"] == "closed"
    # outcomes that say nothing about the model are not counted
    for et in ("invalid_request", "context_length", "content_filter", "cancelled"):
        r = _report(d, error_type=et)
        assert r["counted"] is False and r["breaker"] == "closed", (et, r)
    b = H.breaker_of(d, "gemini-flash")
    assert b["state"] == "closed" and b["consecutive_failures"] == 2 and b["calls_in_window"] == 5, b
    h = H.health_of(d, "gemini-flash")
    assert h["calls"] == 5 and h["successes"] == 1, h

    rows = H.wait_for(lambda: (lambda rs: rs if len(rs) == 9 else None)(d.db_rows("WHERE chain = 'reported'")),
                      timeout=5)
    assert rows, d.db_rows()
    assert sum(1 for r in rows if r["task"] == "batch-job") == 5
    ok = [r for r in rows if r["success"] == 1]
    assert len(ok) == 1 and ok[0]["input_tokens"] == 1000 and ok[0]["output_tokens"] == 1000
    assert H.approx(ok[0]["cost_usd"], H.POOL["gemini-flash"].cost(1000, 1000))


@pytest.mark.parametrize("params,field", [
    ({"model": "nope", "outcome": "success", "latency_ms": 1}, "model"),
    ({"outcome": "success", "latency_ms": 1}, "model"),
    ({"model": "gpt-4o", "outcome": "error", "latency_ms": 1}, "error_type"),
    ({"model": "gpt-4o", "outcome": "error", "error_type": "bogus", "latency_ms": 1}, "error_type"),
    ({"model": "gpt-4o", "outcome": "maybe", "latency_ms": 1}, "outcome"),
    ({"model": "gpt-4o", "outcome": "success", "error_type": "server_error", "latency_ms": 1}, "error_type"),
    ({"model": "gpt-4o", "outcome": "success"}, "latency_ms"),
    ({"model": "gpt-4o", "outcome": "success", "latency_ms": -1}, "latency_ms"),
    ({"model": "gpt-4o", "outcome": "success", "latency_ms": 1, "colour": "red"}, "colour"),
])
def test_report_rejects_bad_params(daemon_factory, fake, params, field):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg()))
    reply = d.request("report", params)
    err = reply.get("error")
    assert err and err["code"] == -32602, reply
    assert err["data"]["field"] == field, err
    assert H.health_of(d, "gpt-4o")["calls"] == 0


@pytest.mark.parametrize("window", [0, 61, "5", 1.5])
def test_health_rejects_bad_window(daemon_factory, fake, window):
    d = daemon_factory()
    reply = d.request("health", {"window_minutes": window})
    err = reply.get("error")
    assert err and err["code"] == -32602 and err["data"]["field"] == "window_minutes", reply


def test_health_windows(daemon_factory, fake):
    d = daemon_factory()
    for w in (1, 5, 15, 60):
        r = d.call("health", {"window_minutes": w})
        assert r["window_minutes"] == w
        assert sorted(m["model"] for m in r["models"]) == sorted(H.POOL)
    assert d.call("health")["window_minutes"] == 15
