"""Breaker and health state survive a restart: saved to the call-log database at every flush
(and at SIGTERM), restored at start. Real daemon, fake providers."""

import sqlite3

import fbd_harness as H
from breakers_lib import NO_PROBES, without_probes

MSGS = [{"role": "user", "content": "Do you remember me?"}]
TWO = ["gpt-4o", "claude-3-5-sonnet"]
BREAKER = {"consecutive_failures": 3, "failure_rate": 0, "open_ms": 600_000}
RES = dict(breaker=BREAKER, retry={"max_retries": 0}, health={"degraded_below": 0.0})


def mid(name):
    return H.POOL[name].model_id


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def restart_on_same_db(daemon_factory, first, probes=True, **res):
    """SIGTERM `first` (asserting a clean exit), then start a new daemon on its database."""
    first.stop()
    mutate = H.resilience(**res)

    def cfg(c):
        mutate(c)
        c["daemon"]["database"] = first.db
        if not probes:
            c["recovery"] = dict(NO_PROBES)

    return daemon_factory(cfg_mutate=cfg)


def test_restart_keeps_open_breaker_open(daemon_factory, fake):
    # recovery probes off (both daemons): this proves the restored open breaker keeps the primary from being
    # called at all; a mirrored recovery probe would call it (test_outage_recovery.py covers probes)
    d1 = daemon_factory(cfg_mutate=without_probes(H.resilience(**RES)))
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        res = H.bounded(lambda: H.complete_ok(d1, MSGS, models=TWO, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet"
    b1 = H.breaker_of(d1, "gpt-4o")
    assert b1["state"] == "open" and b1["level"] == 1 and b1["trips"] == 1, b1
    assert n_requests(fake, "gpt-4o") == 3

    d2 = restart_on_same_db(daemon_factory, d1, probes=False, **RES)
    b2 = H.breaker_of(d2, "gpt-4o")
    assert b2["state"] == "open", f"open breaker not restored: {b2}"
    assert abs(b2["until_ms"] - b1["until_ms"]) <= 1000, (b1["until"], b2["until"])
    assert b2["level"] == 1 and b2["trips"] == 1
    assert b2["last_trip_reason"] == b1["last_trip_reason"]
    assert b2["misconfigured"] is False
    assert H.breaker_of(d2, "claude-3-5-sonnet")["state"] == "closed"

    # a request skips it: nothing sent to the primary
    res = H.bounded(lambda: H.complete_ok(d2, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"]
    e = H.route_entry(res["route"], "gpt-4o")
    assert e["reason"] == "open" and abs(e["until_ms"] - b1["until_ms"]) <= 1000, e
    assert n_requests(fake, "gpt-4o") == 3

    # the earlier calls are still in the health window
    h = H.health_of(d2, "gpt-4o", window_minutes=60)
    assert h["calls"] == 3 and h["successes"] == 0, h
    assert h["breaker"] == "open"
    hc = H.health_of(d2, "claude-3-5-sonnet", window_minutes=60)
    assert hc["calls"] == 4 and hc["successes"] == 4, hc


def test_restart_keeps_isolation_and_auth_flag(daemon_factory, fake):
    res_cfg = dict(RES, breaker=dict(BREAKER, auth_open_ms=3_600_000))
    d1 = daemon_factory(cfg_mutate=H.resilience(**res_cfg))
    assert d1.call("breaker.isolate", {"model": "gemini-pro"})["state"] == "isolated"
    fake.script(mid("gpt-4o"), [], then="auth")
    H.bounded(lambda: H.complete_ok(d1, MSGS, models=TWO, timeout_ms=10000))
    a1 = H.breaker_of(d1, "gpt-4o")
    assert a1["state"] == "open" and a1["misconfigured"] is True

    d2 = restart_on_same_db(daemon_factory, d1, **res_cfg)
    g = H.breaker_of(d2, "gemini-pro")
    assert g["state"] == "isolated", f"isolation lost across restart: {g}"
    a2 = H.breaker_of(d2, "gpt-4o")
    assert a2["state"] == "open" and a2["misconfigured"] is True, a2
    assert abs(a2["until_ms"] - a1["until_ms"]) <= 1000
    res = H.bounded(lambda: H.complete_ok(d2, MSGS, timeout_ms=10000))  # default: gpt-4o, claude, gemini-pro
    assert res["model_used"] == "claude-3-5-sonnet"
    assert {e["model"]: e["reason"] for e in res["route"]} == {
        "claude-3-5-sonnet": "healthy", "gpt-4o": "open", "gemini-pro": "isolated"}
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "gemini-pro") == 0


def test_restart_after_open_period_gives_half_open(daemon_factory, fake):
    short = dict(RES, breaker=dict(BREAKER, open_ms=2000))  # long enough to see it open on a busy machine
    d1 = daemon_factory(cfg_mutate=H.resilience(**short))
    fake.script(mid("gpt-4o"), ["server_error"] * 3, then="ok")
    for _ in range(3):
        H.bounded(lambda: H.complete_ok(d1, MSGS, models=TWO, timeout_ms=10000))
    b1 = H.breaker_of(d1, "gpt-4o")
    assert b1["state"] == "open"
    d1.stop()
    # the open period ends while the daemon is down: wait for the wall clock to pass `until` (a condition,
    # not a pause of a guessed length)
    assert H.wait_for(lambda: H.now_ms() > b1["until_ms"] + 50), "the clock never passed the open period"

    def cfg(c):
        H.set_resilience(c, **short)
        c["daemon"]["database"] = d1.db

    d2 = daemon_factory(cfg_mutate=cfg)
    b = H.breaker_of(d2, "gpt-4o")
    assert b["state"] == "half_open" and b["level"] == 1, b
    res = H.bounded(lambda: H.complete_ok(d2, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o"
    assert H.route_entry(res["route"], "gpt-4o")["reason"] == "half_open_probe"
    assert H.breaker_of(d2, "gpt-4o")["state"] == "closed"


def test_state_saved_while_running(daemon_factory, fake):
    # state goes to the database at every flush, not only at shutdown
    d = daemon_factory(cfg_mutate=H.resilience(**RES))
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    until = H.breaker_of(d, "gpt-4o")["until_ms"]

    def saved():
        con = sqlite3.connect(d.db, timeout=20)
        try:
            return con.execute("SELECT phase, open_until_ms FROM breaker_state WHERE model_name = ?",
                               ("gpt-4o",)).fetchone()
        except sqlite3.OperationalError:
            return None
        finally:
            con.close()

    # polled, not flushed by hand: this is about the periodic flush (every 200 ms) saving state on its own
    row = H.wait_for(lambda: (lambda r: r if r and r[0] == "open" else None)(saved()))
    assert row, f"breaker state not saved while running: {saved()}"
    assert abs(row[1] - until) <= 1000
