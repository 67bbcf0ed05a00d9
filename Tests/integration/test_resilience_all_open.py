"""Degraded reordering and the every-breaker-open behaviour (fail fast, try-least-recent probes, refusal
reasons) against the real daemon and the fake providers.

fbd_harness.config_dict turns breakers and retries off (the seed's plain waterfall); every test
here turns on what it needs through cfg_mutate (H.resilience(...)). Health reordering is switched
off (degraded_below = 0) except where it is the subject, so it cannot reorder chains behind a
breaker test's back. Shared constants and helpers live in breakers_lib.py.
"""

import threading
import time

import fbd_harness as H
from breakers_lib import LONG_OPEN, MSGS, NO_REORDER, NO_RETRY, breaker_cfg, mid, n_requests, without_probes


# --------------------------------------------------------------------------- degraded reordering


def test_degraded_model_moves_to_end(daemon_factory, fake):
    loose = breaker_cfg(consecutive_failures=0, failure_rate=0)
    # default [health]: 0.8, 5 calls. Recovery probes off: this is the demotion itself (a degraded model is
    # not called by the walk while a healthy one serves); a mirrored probe would call it beside the walk.
    # test_outage_recovery.py proves that a probe lets a degraded model regain its place.
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=loose, retry=NO_RETRY)))
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
    # recovery probes off: a -32003 request still mirrors probes to the open models beside it (a live request
    # to their chain), which would call the fake behind this test's exact counts; see test_outage_recovery.py
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(breaker=breaker_cfg(consecutive_failures=1),
                                                              retry=NO_RETRY, health=NO_REORDER)))
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    models = ["gpt-4o", "claude-3-5-sonnet"]
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=models, timeout_ms=10000))
    assert reply["error"]["code"] == -32001, reply
    assert len(fake.requests()) == 2
    rows_before = len(H.flushed_rows(d))  # barrier: cost.report flushes the call log first
    assert rows_before == 2, "the two failed attempts are logged"
    t0 = time.monotonic()
    # a 60 s deadline and 600 s open breakers: failing fast means not waiting for either
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=models, timeout_ms=60000), timeout=30)
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
    assert elapsed < 10, f"-32003 after {elapsed:.1f} s: it waited instead of failing fast"
    assert len(H.flushed_rows(d)) == rows_before, "-32003 writes no call-log row"
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
    """gpt-4o and claude both open (consecutive_failures = 1), claude's failure the older one.

    Recovery probes off: these tests are the panic probe's mechanics (which model, its schedule left alone,
    exact call counts); a mirrored recovery probe to the other open model would add a call and, failing,
    re-trip it (moving its `until`)."""
    d = daemon_factory(cfg_mutate=without_probes(H.resilience(
        breaker=breaker_cfg(consecutive_failures=1, when_all_open="try_least_recent"),
        retry={"max_retries": 2, "base_delay_ms": 1}, health=NO_REORDER)))
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    fake.script(mid("gpt-4o"), [], then="server_error")
    r1 = H.bounded(lambda: H.complete_reply(d, MSGS, models=["claude-3-5-sonnet"], timeout_ms=10000))
    assert r1["error"]["code"] == -32001
    # r1's failure was recorded before its reply, r2's after its request: claude's failure is the older one
    # on the daemon's monotonic clock, no pause needed
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
    # B plans [gpt-4o-mini, gpt-4o, claude] with every breaker closed; while its first attempt is held at
    # the fake, A trips gpt-4o. Released, that attempt fails; at its turn B finds gpt-4o open and passes it over.
    d = daemon_factory(cfg_mutate=H.resilience(breaker=breaker_cfg(consecutive_failures=1), retry=NO_RETRY,
                                               health=NO_REORDER))
    fake.script(mid("gpt-4o-mini"), [{"kind": "hold", "after": "server_error"}], then="ok")
    fake.script(mid("gpt-4o"), [], then="server_error")
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("reply", H.complete_reply(
        d, MSGS, models=["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet"], timeout_ms=30000)), daemon=True)
    t.start()
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o-mini") == 1)
        a = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=10000))
        assert a["model_used"] == "claude-3-5-sonnet"
        until = H.breaker_of(d, "gpt-4o")["until_ms"]
        assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    finally:
        fake.release(mid("gpt-4o-mini"))
        t.join(30)
    assert not t.is_alive()
    reply = box["reply"]
    assert "error" not in reply, reply
    res = reply["result"]
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o-mini", "server_error"), ("claude-3-5-sonnet", None)]
    assert n_requests(fake, "gpt-4o") == 1, "B must not call a model whose breaker opened meanwhile"
    e = H.route_entry(res["route"], "gpt-4o")
    assert e["reason"] == "open", res["route"]
    assert "until_ms" in e and abs(e["until_ms"] - until) <= 5, (e, until)
    assert res["fallback_count"] == 2
