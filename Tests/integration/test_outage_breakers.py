"""Outage conduct, breakers (issue 10): a success of a call that started before the model's latest failure does
not reset the consecutive-failure count (stale successes); a call still outstanding after hang_after_ms counts
as a timeout while it runs, toward the timeout-rate rule (on by default). Real daemon, fake providers.

`hold` steps keep a call provably in flight at the fake until the test releases it: barriers, not sleeps.
Recovery probes are off here: they would call the tripped model beside these checks (test_outage_recovery.py).
"""

import threading

import fbd_harness as H

MSGS = [{"role": "user", "content": "Still there?"}]
TWO = ["gpt-4o", "claude-3-5-sonnet"]


def mid(name):
    return H.POOL[name].model_id


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def cfg(**breaker):
    b = {"consecutive_failures": 3, "failure_rate": 0, "open_ms": 600_000, "auth_open_ms": 3_600_000}
    b.update(breaker)

    def mutate(c):
        H.set_resilience(c, breaker=b, retry={"max_retries": 0}, health={"degraded_below": 0.0})
        c["recovery"] = {"enabled": False}
    return mutate


def in_background(fn):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("reply", fn()), daemon=True)
    t.start()
    return t, box


def test_stale_success_does_not_reset_the_consecutive_count(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cfg())
    # A's call starts before the outage and is held; B and C fail (2 in a row); A then succeeds; D fails: that
    # is the 3rd failure since A started, and the breaker trips (A's success says nothing about the model now)
    fake.script(mid("gpt-4o"), [{"kind": "hold", "after": "ok"}], then="server_error")
    t, box = in_background(lambda: H.complete_reply(d, MSGS, models=TWO, timeout_ms=30000))
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 1), "A never reached the fake"
        for _ in range(2):
            res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
            assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
                ("gpt-4o", "server_error"), ("claude-3-5-sonnet", None)]
        b = H.breaker_of(d, "gpt-4o")
        assert b["state"] == "closed" and b["consecutive_failures"] == 2, b
        assert "reply" not in box, "A ended before the failures: the test proves nothing"
    finally:
        fake.release(mid("gpt-4o"))
        t.join(30)
    assert not t.is_alive()
    a = box["reply"]["result"]
    assert a["model_used"] == "gpt-4o" and [x["model"] for x in a["attempts"]] == ["gpt-4o"], a
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed" and b["consecutive_failures"] == 2, f"a stale success reset the count: {b}"
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["attempts"][0]["error_type"] == "server_error"
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open", f"the 3rd failure since the stale call started did not trip: {b}"
    assert "3 consecutive failures" in (b["last_trip_reason"] or ""), b
    r = d.call("route", {"task": "default"})
    assert H.route_entry(r["route"], "gpt-4o")["reason"] == "open", r
    assert n_requests(fake, "gpt-4o") == 4


def test_fresh_success_still_resets_the_consecutive_count(daemon_factory, fake):
    # the control: a success of a call that started after the latest failure does reset it
    d = daemon_factory(cfg_mutate=cfg())
    fake.script(mid("gpt-4o"), ["server_error", "server_error", "ok", "server_error", "server_error"], then="ok")
    for _ in range(5):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "closed" and b["consecutive_failures"] == 2 and b["trips"] == 0, b


def test_a_call_hanging_past_hang_after_counts_as_a_timeout_while_it_runs(daemon_factory, fake):
    # only the timeout-rate rule is on (0.25 over >= 1 call); a call out for 300 ms counts at once
    d = daemon_factory(cfg_mutate=cfg(consecutive_failures=0, timeout_rate=0.25, hang_after_ms=300, window=4,
                                      minimum_calls=1))
    fake.script(mid("gpt-4o"), [{"kind": "hold", "after": "ok"}], then="ok")
    t, box = in_background(lambda: H.complete_reply(d, MSGS, models=TWO, timeout_ms=30000))
    try:
        assert H.wait_for(lambda: n_requests(fake, "gpt-4o") == 1)
        # a new request reading the breaker after 300 ms finds the call hung: tripped while it is still held
        def tripped():
            res = H.complete_ok(d, MSGS, models=["claude-3-5-sonnet", "gpt-4o"], timeout_ms=10000)
            return res if H.route_entry(res["route"], "gpt-4o")["reason"] == "open" else None
        res = H.wait_for(tripped, timeout=20, interval=0.05)
        assert res, f"the hanging call never counted: {H.breaker_of(d, 'gpt-4o')}"
        b = H.breaker_of(d, "gpt-4o")
        assert b["state"] == "open", b
        assert "timeout rate" in (b["last_trip_reason"] or "") and "hanging" in b["last_trip_reason"], b
        assert "reply" not in box and fake.requests(model=mid("gpt-4o"))[0].get("ended") is None, (
            "the call ended before the trip: the test proves nothing")
        # later requests skip it
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
        assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"]
    finally:
        fake.release(mid("gpt-4o"))
        t.join(30)
    assert not t.is_alive()
    # the held call then succeeds (its caller is served) and is not counted a second time
    assert box["reply"]["result"]["model_used"] == "gpt-4o", box["reply"]
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open" and b["trips"] == 1, b
    assert n_requests(fake, "gpt-4o") == 1


def test_timeout_rate_rule_is_on_by_default(daemon_factory, fake):
    # no timeout_rate / hang_after_ms in the config: the defaults (0.25, 10 s) apply. Two timeouts in a
    # window of minimum_calls (default) calls trip it without any consecutive or failure-rate rule
    d = daemon_factory(cfg_mutate=cfg(consecutive_failures=0, window=4, minimum_calls=4))
    d_models = ["gpt-4o-quick", "claude-3-5-sonnet"]
    fake.script(mid("gpt-4o-quick"), ["hang", "ok", "ok", "hang"], then="ok")
    for i in range(4):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=d_models, timeout_ms=10000))
        assert res["attempts"][0]["model"] == "gpt-4o-quick"
    b = H.breaker_of(d, "gpt-4o-quick")
    assert b["state"] == "open", b
    assert "timeout rate" in (b["last_trip_reason"] or ""), b
