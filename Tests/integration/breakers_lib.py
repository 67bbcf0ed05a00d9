"""Shared constants and helpers of the circuit-breaker integration tests (test_resilience_breakers/_all_open/_operator.py)."""

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


def trip(d, fake, models=("gpt-4o", "claude-3-5-sonnet"), n=3):
    for _ in range(n):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=list(models), timeout_ms=10000))
        assert res["model_used"] == models[1]


# Recovery probes ([recovery], on by default) mirror a live request to a model that is open or degraded.
# Tests of the breaker's own mechanics (trip thresholds, half-open probes, open periods, panic probes) count
# every request the fake gets and check `until`/`trips`: a mirrored probe would add a call and, failing,
# re-trip the breaker ("recovery probe failed"). Those tests turn probes off for their own daemon only;
# test_outage_recovery.py proves the probes themselves.
NO_PROBES = {"enabled": False}


def without_probes(mutate):
    """cfg_mutate: `mutate`, then [recovery] enabled = false."""
    def run(cfg):
        mutate(cfg)
        cfg["recovery"] = dict(NO_PROBES)
        return cfg
    return run
