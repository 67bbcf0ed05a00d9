"""Outage conduct, timeouts (issue 10): a silent provider cannot eat the whole request, and a timed-out model is
not retried while another model can serve. Real daemon, fake providers.

Each attempt's deadline is min(the model's timeout, the request's deadline - reserve), reserve =
min(models still to try after it x [routing].reserve_per_model_ms (5000), remaining / 2) (docs/protocol.md,
"Deadlines leave room for the chain"). The harness gives every provider timeout_ms 15000; the first test takes
that away so that the daemon's own defaults apply (30 s per attempt, 30 s per request), as for a new user.
"""

import time

import fbd_harness as H

MSGS = [{"role": "user", "content": "Is anyone there?"}]
CHEAP = H.CHAINS["cheap"]  # gpt-4o-mini, claude-3-haiku, gemini-flash, local-llama: four models
NO_REORDER = {"degraded_below": 0.0}


def mid(name):
    return H.POOL[name].model_id


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def daemon_defaults(cfg):
    """The daemon's default timeouts: no provider timeout_ms (30 s), no model timeout."""
    for p in cfg["providers"].values():
        p.pop("timeout_ms", None)
    cfg["health"] = dict(NO_REORDER)


def test_silent_primary_leaves_the_backup_room_inside_the_default_deadline(daemon_factory, fake):
    # the old conduct: the silent model got the whole 30 s (its timeout = the deadline) and the backup was
    # skipped_by_deadline. Now, with three models after it, it gets 30 s - min(3 x 5 s, 30 s / 2) = 15 s.
    d = daemon_factory(cfg_mutate=daemon_defaults)
    assert H.CHAINS["cheap"] == CHEAP and len(CHEAP) == 4
    fake.script(mid("gpt-4o-mini"), [], then="hang")
    t0 = time.monotonic()
    # no timeout_ms: the default deadline (30 s); the bound only catches a request that waited for it all
    res = H.bounded(lambda: H.complete_ok(d, MSGS, task="cheap", timeout=60), timeout=60)
    elapsed = time.monotonic() - t0
    assert res["model_used"] == "claude-3-haiku", res
    att = res["attempts"]
    assert [(a["model"], a["outcome"], a["error_type"]) for a in att] == [
        ("gpt-4o-mini", "error", "timeout"), ("claude-3-haiku", "success", None)], att
    # the first attempt's share is 15 s: never cut early, and about on time (a few seconds for a busy machine)
    assert 14_900 <= att[0]["latency_ms"] <= 18_000, att[0]
    assert elapsed < 20, f"the backup answered {elapsed:.1f} s after the request: not well inside 30 s"
    assert res["latency_ms"] < 20_000, res["latency_ms"]
    assert H.route_entry(res["route"], "gemini-flash")["reason"] == "healthy", res["route"]
    # the silent call was abandoned (the fake saw the daemon hang up), and not tried a second time
    assert H.wait_for(lambda: fake.requests(model=mid("gpt-4o-mini"))[0].get("ended") == "client_closed", timeout=10)
    assert n_requests(fake, "gpt-4o-mini") == 1 and n_requests(fake, "claude-3-haiku") == 1


def retries_on(extra=None):
    def mutate(cfg):
        H.set_resilience(cfg, retry={"max_retries": 2, "base_delay_ms": 10, "max_delay_ms": 50}, health=NO_REORDER)
        if extra:
            extra(cfg)
    return mutate


def quick_model(cfg):
    # gpt-4o with a 400 ms attempt timeout (the harness's gpt-4o-quick), so timeouts come fast
    cfg["models"]["gpt-4o-quick"]["timeout_ms"] = 400


def test_timed_out_model_is_not_retried_while_another_can_serve(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=retries_on(quick_model))
    # a timeout is retryable (max_retries = 2), and the model would answer its retry: still, the walk moves on
    fake.script(mid("gpt-4o-quick"), ["hang"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-quick", "claude-3-5-sonnet"], timeout_ms=20000))
    assert res["model_used"] == "claude-3-5-sonnet", res
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o-quick", "timeout"), ("claude-3-5-sonnet", None)], res["attempts"]
    assert 400 <= res["attempts"][0]["latency_ms"] < 5000, res["attempts"][0]
    assert n_requests(fake, "gpt-4o-quick") == 1, "the timed-out model was tried again on the same request"


def test_stalled_body_is_not_retried_while_another_can_serve(daemon_factory, fake):
    # a stall inside the body (headers and part of it, then silence) is a timeout too
    d = daemon_factory(cfg_mutate=retries_on(quick_model))
    fake.script(mid("gpt-4o-quick"), ["stall_body"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-quick", "gemini-pro"], timeout_ms=20000))
    assert res["model_used"] == "gemini-pro", res
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o-quick", "gemini-pro"], res["attempts"]
    assert res["attempts"][0]["error_type"] == "timeout", res["attempts"][0]
    assert n_requests(fake, "gpt-4o-quick") == 1


def test_timed_out_model_alone_may_be_retried(daemon_factory, fake):
    # a one-model chain: nothing else can serve, so the timeout is retried (it is a retryable error)
    d = daemon_factory(cfg_mutate=retries_on(quick_model))
    fake.script(mid("gpt-4o-quick"), ["hang"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-quick"], timeout_ms=20000))
    assert res["model_used"] == "gpt-4o-quick"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o-quick", "timeout"), ("gpt-4o-quick", None)], res["attempts"]
    assert n_requests(fake, "gpt-4o-quick") == 2


def test_timeout_retry_once_the_others_have_failed_is_allowed(daemon_factory, fake):
    # the chain's other model is already out of the picture (it failed before): the timed-out model is the
    # only one left when it times out, so it may be retried
    d = daemon_factory(cfg_mutate=retries_on(quick_model))
    fake.script(mid("claude-3-5-sonnet"), [], then="bad_request")
    fake.script(mid("gpt-4o-quick"), ["hang"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["claude-3-5-sonnet", "gpt-4o-quick"], timeout_ms=20000))
    assert res["model_used"] == "gpt-4o-quick"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("claude-3-5-sonnet", "invalid_request"), ("gpt-4o-quick", "timeout"), ("gpt-4o-quick", None)], res["attempts"]


def test_reserve_per_model_is_configurable(daemon_factory, fake):
    # [routing] reserve_per_model_ms = 1000: a hang first in a two-model chain with a 6 s deadline is cut after
    # 6 s - min(1 x 1 s, 6 s / 2) = 5 s (the default 5 s reserve would cut it after 3 s)
    d = daemon_factory(cfg_mutate=lambda c: c.__setitem__("routing", {"reserve_per_model_ms": 1000}))
    fake.script(mid("gpt-4o"), [], then="hang")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"], timeout_ms=6000), timeout=30)
    assert res["model_used"] == "claude-3-5-sonnet"
    att = res["attempts"]
    assert att[0]["error_type"] == "timeout"
    assert att[0]["latency_ms"] >= 4_900, att[0]
