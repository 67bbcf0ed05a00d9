"""Operator methods (breaker.isolate / breaker.reset / breakers), `report` and `health` windows against
the real daemon and the fake providers.

fbd_harness.config_dict turns breakers and retries off (the seed's plain waterfall); every test
here turns on what it needs through cfg_mutate (H.resilience(...)). Health reordering is switched
off (degraded_below = 0) except where it is the subject, so it cannot reorder chains behind a
breaker test's back. Shared constants and helpers live in breakers_lib.py.
"""

import pytest

import fbd_harness as H
from breakers_lib import MSGS, NO_REORDER, NO_RETRY, breaker_cfg, mid, n_requests, trip, without_probes


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
    trip(d, fake)
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
    # recovery probes off: this proves fallbackd never calls a model that reports opened (a mirrored
    # recovery probe would call it beside the walk; test_outage_recovery.py covers probes)
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=breaker_cfg(), retry=NO_RETRY,
                                                              health=NO_REORDER)))
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

    # the reports are in the call log, chain "reported" (cost.report flushes it first)
    rows = H.flushed_rows(d, "WHERE chain = ?", ("reported",))
    assert len(rows) == 4, f"reported rows not in the call log: {d.db_rows()}"
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

    rows = H.flushed_rows(d, "WHERE chain = 'reported'")
    assert len(rows) == 9, d.db_rows()
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
