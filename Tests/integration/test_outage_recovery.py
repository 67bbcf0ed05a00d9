"""Outage conduct, recovery probes (issue 10): while a model is out (breaker open, not for auth or quota) or
demoted (degraded), a live request to its chain also sends a copy to it as a probe, one at a time per model,
spaced by [recovery] probe_interval_ms (doubling on failure up to max_probe_interval_ms); a success closes the
breaker and clears the demotion at once; a failure re-trips the open breaker. Probes are logged with chain
"probe" (shadow = 1), and the caller never waits for them. Real daemon, fake providers.
"""

import math
import time

import pytest

import fbd_harness as H
from chat_lib import stream_request

MSGS = [{"role": "user", "content": "Is the primary back?"}]
NO_REORDER = {"degraded_below": 0.0}


def mid(name):
    return H.POOL[name].model_id


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def recovery_cfg(breaker=None, health=None, interval_ms=1000, max_interval_ms=4000):
    def mutate(cfg):
        H.set_resilience(cfg, breaker=breaker, health=health or NO_REORDER)
        cfg["recovery"] = {"enabled": True, "probe_interval_ms": interval_ms, "max_probe_interval_ms": max_interval_ms}
    return mutate


def breaker(**kw):
    b = {"consecutive_failures": 3, "failure_rate": 0, "open_ms": 60_000, "auth_open_ms": 3_600_000}
    b.update(kw)
    return b


def probe_rows(d, model=None):
    rows = H.flushed_rows(d, "WHERE chain = ?", ("probe",))
    return [r for r in rows if model is None or r["model_name"] == model]


OUTAGE_S = 10.0   # the primary's outage (the drill: 60 s with a request every 4 s; scaled down)
PACE_S = 0.5      # one request every half second
INTERVAL_MS, MAX_INTERVAL_MS, THRESHOLD = 1000, 4000, 3


def test_primary_down_then_healthy_is_back_within_seconds(daemon_factory, fake):
    # open_ms 60 s: only a probe can bring the primary back before the end of this test
    d = daemon_factory(cfg_mutate=recovery_cfg(breaker(), interval_ms=INTERVAL_MS, max_interval_ms=MAX_INTERVAL_MS))
    fake.script(mid("gpt-4o"), [], then="server_error")
    results = []
    t0 = time.monotonic()
    recovered_at = None  # monotonic time the primary became healthy
    back_at = None  # the first request the primary served after that
    while True:
        now = time.monotonic()
        if recovered_at is None and now - t0 >= OUTAGE_S:
            fake.script(mid("gpt-4o"), [], then="ok")
            recovered_at = time.monotonic()
        sent = time.monotonic()
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        results.append((sent, res))
        if recovered_at is not None and res["model_used"] == "gpt-4o" and back_at is None:
            back_at = sent
        served_by_primary = [r for _, r in results[-3:] if r["model_used"] == "gpt-4o"]
        if back_at is not None and len(served_by_primary) == 3:
            break
        assert recovered_at is None or now - recovered_at < 30, "the primary never came back (30 s after recovery)"
        time.sleep(max(0.0, PACE_S - (time.monotonic() - sent)))
    # every request was served, and during the outage none of them paid for the primary after the trip
    outage = [r for s, r in results if recovered_at is None or s < recovered_at]
    assert all(r["model_used"] in ("gpt-4o", "claude-3-5-sonnet") for _, r in results)
    assert [len(r["attempts"]) for r in outage[:THRESHOLD]] == [2] * THRESHOLD
    assert all([a["model"] for a in r["attempts"]] == ["claude-3-5-sonnet"] for r in outage[THRESHOLD:])
    # the primary's calls during the outage: the trip threshold plus a handful of probes
    failed_calls = [r for r in fake.requests(model=mid("gpt-4o")) if r["kind"] == "server_error"]
    spaced = 1 + int(math.log2(MAX_INTERVAL_MS / INTERVAL_MS)) + math.ceil(OUTAGE_S * 1000 / MAX_INTERVAL_MS)
    assert THRESHOLD + 1 <= len(failed_calls) <= THRESHOLD + math.ceil(OUTAGE_S * 1000 / INTERVAL_MS) + 2, failed_calls
    assert len(failed_calls) <= THRESHOLD + spaced, f"probes not spaced 1, 2, 4, 4 ... s: {len(failed_calls)} calls"
    # back on the primary within seconds of its recovery (max probe interval 4 s), long before open_ms (60 s)
    assert back_at is not None and back_at - recovered_at < 10, back_at - recovered_at
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed", b
    assert b["trips"] >= 2, b  # the outage's trip, then each failed probe re-tripped it
    # the probes are in the call log: chain "probe", shadow = 1, the failed ones then the one that worked
    probes = probe_rows(d, "gpt-4o")
    live_primary = H.flushed_rows(d, "WHERE model_name = ? AND chain != ?", ("gpt-4o", "probe"))
    assert len(probes) + len(live_primary) == n_requests(fake, "gpt-4o")
    assert all(p["shadow"] == 1 and p["served"] == 0 for p in probes), probes
    assert [p["success"] for p in probes][-1] == 1 and all(p["success"] == 0 for p in probes[:-1]), probes
    assert {p["error_type"] for p in probes[:-1]} <= {"server_error"}
    assert len(probes) - 1 == len(failed_calls) - THRESHOLD
    # cost.report counts them with the shadow calls
    assert d.call("cost.report", {"days": 1})["totals"]["shadow_calls"] == len(probes)


def test_the_caller_never_waits_for_a_probe_and_one_runs_at_a_time(daemon_factory, fake):
    # probe_interval_ms = 1: spacing is no reason to skip a probe here, only the one in flight is
    d = daemon_factory(cfg_mutate=recovery_cfg(breaker(consecutive_failures=1, open_ms=600_000), interval_ms=1))
    fake.script(mid("gpt-4o"), ["server_error", {"kind": "hold", "after": "ok"}], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet" and H.breaker_of(d, "gpt-4o")["state"] == "open"
    try:
        # the next request sends a probe, which the fake holds: the caller is served without it
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet" and [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"]
        assert H.route_entry(res["route"], "gpt-4o")["reason"] == "open"
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 2), "no probe reached the open model"
        probe = fake.requests(model=mid("gpt-4o"))[1]
        assert probe["stream_requested"] is False
        # more requests while it is held: served, and no second probe of the same model
        for _ in range(3):
            res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
            assert res["model_used"] == "claude-3-5-sonnet"
        assert n_requests(fake, "gpt-4o") == 2, "a second probe while one was in flight"
        assert fake.requests(model=mid("gpt-4o"))[1].get("ended") is None, "the probe ended early: proves nothing"
        assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    finally:
        fake.release(mid("gpt-4o"))
    # the probe answers: the breaker closes at once (open_ms is 10 minutes)
    b = H.wait_breaker_state(d, "gpt-4o", "closed")
    assert b["until"] is None, b
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o" and H.route_entry(res["route"], "gpt-4o")["reason"] == "healthy"
    probes = probe_rows(d)
    assert [(p["model_name"], p["success"], p["shadow"]) for p in probes] == [("gpt-4o", 1, 1)], probes


def test_a_chain_with_every_breaker_open_recovers_through_probes(daemon_factory, fake):
    # every model of the chain open: the request fails fast (-32003, nothing on its own path), but it still
    # mirrors a probe to each open model, so the chain comes back without waiting for open_ms (10 minutes)
    d = daemon_factory(cfg_mutate=recovery_cfg(breaker(consecutive_failures=1, open_ms=600_000), interval_ms=1))
    two = ["gpt-4o", "claude-3-5-sonnet"]
    for m in two:
        fake.script(mid(m), ["server_error"], then="ok")
    assert H.bounded(lambda: H.complete_reply(d, MSGS, models=two, timeout_ms=10000))["error"]["code"] == -32001
    assert all(H.breaker_of(d, m)["state"] == "open" for m in two)
    t0 = time.monotonic()
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=two, timeout_ms=30000))
    assert reply.get("error", {}).get("code") == -32003, reply
    assert reply["error"]["data"]["attempts"] == []
    assert time.monotonic() - t0 < 10, "the caller waited"
    for m in two:
        H.wait_breaker_state(d, m, "closed")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=two, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o" and H.route_entry(res["route"], "gpt-4o")["reason"] == "healthy"
    assert sorted((p["model_name"], p["success"]) for p in probe_rows(d)) == [("claude-3-5-sonnet", 1), ("gpt-4o", 1)]


def test_a_streaming_request_probes_without_streaming(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=recovery_cfg(breaker(consecutive_failures=1, open_ms=600_000), interval_ms=1))
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "timeout_ms": 10000}, id=3)
    assert reply["result"]["model_used"] == "claude-3-5-sonnet", reply
    assert notes and {n["params"]["model"] for n in notes} == {"claude-3-5-sonnet"}
    assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 2)
    assert fake.requests(model=mid("gpt-4o"))[1]["stream_requested"] is False
    H.wait_breaker_state(d, "gpt-4o", "closed")


def test_degraded_model_regains_its_place_after_a_probe(daemon_factory, fake):
    # breakers off, health reordering on (degraded below 80% over >= 5 calls): a demoted model gets no live
    # calls, so only a probe can show it is healthy again
    loose = {"consecutive_failures": 0, "failure_rate": 0, "timeout_rate": 0}
    d = daemon_factory(cfg_mutate=recovery_cfg(loose, health={"degraded_below": 0.8, "minimum_calls": 5}))
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(5):
        assert H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))["model_used"] == "claude-3-5-sonnet"
    r = d.call("route", {"task": "default"})
    assert [(e["model"], e["reason"]) for e in r["route"]][-1] == ("gpt-4o", "degraded"), r
    assert H.health_of(d, "gpt-4o")["degraded"] is True
    fake.script(mid("gpt-4o"), [], then="ok")  # the primary is fine again
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet", "a degraded model is tried after the healthy ones"
    assert H.route_entry(res["route"], "gpt-4o")["reason"] == "degraded"
    # that request mirrored a probe to it; its success clears the demotion
    healthy = H.wait_for(lambda: (lambda r: r if r["route"][0] == {"model": "gpt-4o", "place": 1, "reason": "healthy"}
                                  else None)(d.call("route", {"task": "default"})), timeout=20)
    assert healthy, d.call("route", {"task": "default"})
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o" and res["fallback_count"] == 0
    assert H.route_entry(res["route"], "gpt-4o")["reason"] == "healthy"
    assert H.breaker_of(d, "gpt-4o")["state"] == "closed"
    assert [(p["model_name"], p["success"]) for p in probe_rows(d)] == [("gpt-4o", 1)]


@pytest.mark.parametrize("primary,kind", [("gpt-4o", "auth"), ("gpt-4o", "forbidden"), ("gpt-4o", "insufficient_quota"),
                                          ("claude-3-5-sonnet", "insufficient_quota")])
def test_models_out_for_auth_or_quota_are_not_probed(daemon_factory, fake, primary, kind):
    # the chain: the misconfigured model, a model that trips on server errors (the control: it IS probed, with
    # the same config), then a healthy one. probe_interval_ms = 1, so spacing is no reason to skip a probe.
    d = daemon_factory(cfg_mutate=recovery_cfg(breaker(), interval_ms=1))
    control, healthy = "gemini-pro", "claude-3-haiku"
    models = [primary, control, healthy]
    fake.script(mid(primary), [], then=kind)
    fake.script(mid(control), [], then="server_error")
    for _ in range(3):
        assert H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))["model_used"] == healthy
    b = H.breaker_of(d, primary)
    assert b["state"] == "open" and b["misconfigured"] is True, b
    assert H.breaker_of(d, control)["state"] == "open"
    assert n_requests(fake, primary) == 1
    control_before = n_requests(fake, control)
    for _ in range(6):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=models, timeout_ms=10000))
        assert res["model_used"] == healthy and [a["model"] for a in res["attempts"]] == [healthy]
        assert H.route_entry(res["route"], primary)["reason"] == "open"
    H.stop_settled(d)  # every probe the daemon started has ended and is logged
    assert n_requests(fake, primary) == 1, f"a model out for {kind} was probed"
    assert n_requests(fake, control) > control_before, "the control model was never probed: the test proves nothing"
    probes = H.shadow_calls(d)
    assert probes and {p["model_name"] for p in probes} == {control}, probes


def test_a_model_out_for_timeouts_needs_confirm_probes_in_a_row(daemon_factory, fake):
    # Three slow primaries outrun by their hedges are three consecutive timeouts: a gray failure. One good probe
    # does not disprove it (with 30% of calls hanging most probes still answer): [recovery] confirm_probes do.
    def mutate(cfg):
        recovery_cfg(breaker(), interval_ms=1)(cfg)
        cfg["recovery"].update({"confirm_probes": 3, "confirm_interval_ms": 1})
        cfg["routing"] = {"hedge_budget_ratio": 1.0}
        cfg["chain_options"] = {"default": {"hedge_after_ms": 100}}
    d = daemon_factory(cfg_mutate=mutate)
    fake.script(mid("gpt-4o"), [{"kind": "slow", "ms": 2000}] * 3, then="ok")
    for _ in range(3):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet", res
    assert H.wait_for(lambda: H.breaker_of(d, "gpt-4o")["state"] == "open"), H.breaker_of(d, "gpt-4o")
    assert H.breaker_of(d, "gpt-4o")["last_trip_reason"] == "3 consecutive timeouts"
    for i in range(3):
        before = len(probe_rows(d, "gpt-4o"))
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet", res
        assert H.wait_for(lambda: len(probe_rows(d, "gpt-4o")) == before + 1), f"probe {i + 1} never ended"
        assert probe_rows(d, "gpt-4o")[-1]["success"] == 1
        assert H.breaker_of(d, "gpt-4o")["state"] == ("closed" if i == 2 else "open"), (i, H.breaker_of(d, "gpt-4o"))
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o", "back after the third good probe in a row"

