"""Circuit breakers against the real daemon and the fake providers: tripping on an outage, per-model
overrides, half-open probes, auth failures and the failure-rate / slow-call rules.

fbd_harness.config_dict turns breakers and retries off (the seed's plain waterfall); every test
here turns on what it needs through cfg_mutate (H.resilience(...)). Health reordering is switched
off (degraded_below = 0) except where it is the subject, so it cannot reorder chains behind a
breaker test's back. Shared constants and helpers live in breakers_lib.py.
"""

import threading

import pytest

import fbd_harness as H
from breakers_lib import LONG_OPEN, MSGS, NO_REORDER, NO_RETRY, breaker_cfg, mid, n_requests, trip, without_probes


# --------------------------------------------------------------------------- outage: trip after 3, then skip


def test_outage_trips_after_threshold_and_fallback_serves_everything(daemon_factory, fake):
    # recovery probes off: this counts the primary's calls to the threshold and checks one open period
    # (a failed mirrored probe would add a call and re-trip it); test_outage_recovery.py covers probes
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=breaker_cfg(), retry=NO_RETRY,
                                                              health=NO_REORDER)))
    fake.script(mid("gpt-4o"), [], then="server_error")
    results = []
    t_before_trip = t_after_trip = None
    for i in range(30):
        if i == 2:
            t_before_trip = H.now_ms()
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        results.append(res)
        if i == 2:
            t_after_trip = H.now_ms()
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
    # the trip happened during the third request: causal bounds, whatever the machine's load
    assert t_before_trip + LONG_OPEN - 50 <= untils[0] <= t_after_trip + LONG_OPEN + 50, (
        untils[0], t_before_trip, t_after_trip)

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
    # recovery probes off: the exact call counts are the trip thresholds (a probe would add a call)
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(
        breaker=breaker_cfg(), retry=NO_RETRY, health=NO_REORDER,
        model_breakers={"gpt-4o": {"consecutive_failures": 5}})))
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    for _ in range(8):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
        H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-mini", "claude-3-5-sonnet"], timeout_ms=10000))
    assert n_requests(fake, "gpt-4o") == 5
    assert n_requests(fake, "gpt-4o-mini") == 3
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    assert H.breaker_of(d, "gpt-4o-mini")["state"] == "open"


SHORT_OPEN = 2000  # short enough to wait for, long enough that the checks made while open fit on a busy machine


def test_half_open_single_probe_success_closes(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(open_ms=SHORT_OPEN), retry=NO_RETRY,
                                               health=NO_REORDER))
    # 3 failures trip it; the probe is held at the fake (answers ok once released), so other requests see it
    # in flight for as long as the test needs
    fake.script(mid("gpt-4o"), ["server_error"] * 3 + ["hold"], then="ok")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    trip(d, fake)
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    b = H.wait_breaker_state(d, "gpt-4o", "half_open")
    assert b["until"] is None and b["probes_in_flight"] == 0

    box = {}

    def probe():
        box["reply"] = H.complete_reply(d, MSGS, models=models, timeout_ms=30000)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 4), "the probe never reached the fake"
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
        assert "reply" not in box and fake.requests(model=mid("gpt-4o"))[3].get("ended") is None
    finally:
        fake.release(mid("gpt-4o"))
        t.join(30)
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
    # open periods of 2, 4 and 8 s: each check made while the breaker is open has seconds to spare.
    # Recovery probes off: this is the half-open probe's own mechanics (one probe per half-open period, the
    # reopening schedule); a mirrored recovery probe while open would add calls and re-trip the breaker
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(
        breaker=breaker_cfg(open_ms=SHORT_OPEN, backoff_multiplier=2.0), retry=NO_RETRY, health=NO_REORDER)))
    fake.script(mid("gpt-4o"), [], then="server_error")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    t0 = H.now_ms()
    trip(d, fake)
    t1 = H.now_ms()
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open" and b["level"] == 1 and b["trips"] == 1
    prev_until = b["until_ms"]
    assert t0 + SHORT_OPEN - 50 <= prev_until <= t1 + SHORT_OPEN + 50, (t0, prev_until, t1)
    sent_to_primary = 3
    for level, duration in ((2, 2 * SHORT_OPEN), (3, 4 * SHORT_OPEN)):
        H.wait_breaker_state(d, "gpt-4o", "half_open")
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
    # recovery probes off: the last check counts the primary's calls once it is open
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=cfg, retry=NO_RETRY, health=NO_REORDER)))
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
    # recovery probes off: the last check counts the primary's calls once it is open
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=cfg, retry=NO_RETRY, health=NO_REORDER)))
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
    # the attempt is held at the fake until isolate + reset are done, then fails; one failure would trip it
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1), retry=NO_RETRY,
                                               health=NO_REORDER))
    fake.script(mid("gpt-4o-mini"), [{"kind": "hold", "after": "server_error"}], then="ok")
    box = {}
    t = threading.Thread(target=lambda: box.setdefault(
        "reply", H.complete_reply(d, MSGS, models=["gpt-4o-mini", "claude-3-5-sonnet"], timeout_ms=30000)),
        daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o-mini") == 1)
        assert d.call("breaker.isolate", {"model": "gpt-4o-mini"})["state"] == "isolated"
        assert d.call("breaker.reset", {"model": "gpt-4o-mini"})["state"] == "closed"
        assert "reply" not in box, "the attempt ended before the reset: the test proves nothing"
    finally:
        fake.release(mid("gpt-4o-mini"))
        t.join(30)
    assert not t.is_alive()
    res = box["reply"]["result"]
    assert res["model_used"] == "claude-3-5-sonnet"
    assert res["attempts"][0]["model"] == "gpt-4o-mini" and res["attempts"][0]["error_type"] == "server_error"
    b = H.breaker_of(d, "gpt-4o-mini")
    assert b["state"] == "closed" and b["consecutive_failures"] == 0 and b["calls_in_window"] == 0, (
        f"a call started before breaker.reset counted toward the new closed period: {b}")
    # the failure still counts toward health
    assert H.health_of(d, "gpt-4o-mini")["calls"] == 1
