"""Retries on the same model: which errors, how long to wait (Retry-After vs the deadline), the
per-provider retry budget, and the one overall deadline. Real daemon, fake providers.

Breakers stay off (the harness default) unless a test turns them on; health reordering is off
(degraded_below = 0) so a failing primary keeps its place in the chain.
"""

import time

import pytest

import fbd_harness as H

MSGS = [{"role": "user", "content": "Retry me maybe"}]
NO_REORDER = {"degraded_below": 0.0}
BREAKERS_OFF = {"consecutive_failures": 0, "failure_rate": 0}
TWO = ["gpt-4o", "claude-3-5-sonnet"]


def mid(name):
    return H.POOL[name].model_id


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def make(daemon_factory, retry, breaker=None, health=None, chain_options=None):
    mutate = H.resilience(breaker=breaker or BREAKERS_OFF, retry=retry, health=NO_REORDER if health is None else health)

    def cfg(c):
        mutate(c)
        if chain_options:
            c["chain_options"] = chain_options
    return daemon_factory(cfg_mutate=cfg)


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("primary", ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"])
def test_rate_limited_alone_waits_retry_after_then_served_by_primary(daemon_factory, fake, primary):
    # a one-model chain: nothing else can serve, so the request waits for the provider's Retry-After
    # (retry-after / retry-after-ms, Anthropic's retry-after, Gemini's RetryInfo retryDelay) and retries it
    d = make(daemon_factory, {"max_retries": 1, "base_delay_ms": 10})
    fake.script(mid(primary), [{"kind": "rate_limited", "retry_after": 1}], then="ok")
    t0 = time.monotonic()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary], timeout_ms=15000))
    elapsed = time.monotonic() - t0
    assert res["model_used"] == primary, res
    assert res["fallback_count"] == 0 and res["used_fallback"] is False
    assert [(a["model"], a["outcome"], a["error_type"]) for a in res["attempts"]] == [
        (primary, "error", "rate_limited"), (primary, "success", None)]
    assert res["attempts"][0]["http_status"] == 429
    assert n_requests(fake, primary) == 2
    # the provider's retry-after (1 s) was honoured, not the 10 ms backoff
    assert res["latency_ms"] >= 950, res["latency_ms"]
    assert elapsed >= 0.95
    assert elapsed < 10, "generous upper bound"
    # the two requests to the provider were about a second apart
    reqs = sorted(fake.requests(model=mid(primary)), key=lambda r: r["seq"])
    assert reqs[1]["ts"] - reqs[0]["ts"] >= 0.95


@pytest.mark.parametrize("primary", ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"])
def test_rate_limited_with_retry_after_moves_on_and_parks_the_model(daemon_factory, fake, primary):
    # another model is left: the request that heard the Retry-After moves on at once (no wait, no retry), and
    # the model stays parked for the next requests too (route reason rate_limited_until)
    d = make(daemon_factory, {"max_retries": 1, "base_delay_ms": 10})
    fallback = "gpt-4o-mini"
    fake.script(mid(primary), [{"kind": "rate_limited", "retry_after": 30}], then="ok")
    t0 = H.now_ms()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary, fallback], timeout_ms=15000))
    t1 = H.now_ms()
    assert res["model_used"] == fallback, res
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [(primary, "rate_limited"), (fallback, None)]
    assert res["attempts"][0]["http_status"] == 429
    # "at once": far below the 30 s Retry-After (a wide margin for a loaded machine)
    assert res["latency_ms"] < 10000, res["latency_ms"]
    res2 = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary, fallback], timeout_ms=15000))
    assert [a["model"] for a in res2["attempts"]] == [fallback]
    e = H.route_entry(res2["route"], primary)
    assert e["reason"] == "rate_limited_until", res2["route"]
    assert t0 + 30000 - 50 <= e["until_ms"] <= t1 + 30000 + 50, (t0, e, t1)
    assert n_requests(fake, primary) == 1 and n_requests(fake, fallback) == 2


def test_retry_after_beyond_deadline_moves_on_at_once(daemon_factory, fake):
    d = make(daemon_factory, {"max_retries": 1})
    # retry-after 120 s, deadline 30 s: "at once" is checked as "long before the deadline", a wide margin
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 120}], then="ok")
    t0 = time.monotonic()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=30000), timeout=40)
    elapsed = time.monotonic() - t0
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o", "rate_limited"), ("claude-3-5-sonnet", None)]
    assert n_requests(fake, "gpt-4o") == 1, "no second request to the primary"
    assert res["latency_ms"] < 10000 and elapsed < 10, (res["latency_ms"], elapsed)


def test_retry_after_that_fits_only_without_room_for_attempt(daemon_factory, fake):
    # retry_after 20 s with a 20 s deadline: the wait plus a minimal attempt does not fit -> fallback at once
    d = make(daemon_factory, {"max_retries": 1})
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 20}], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=20000), timeout=40)
    assert res["model_used"] == "claude-3-5-sonnet"
    assert n_requests(fake, "gpt-4o") == 1
    assert res["latency_ms"] < 10000, f"{res['latency_ms']} ms: it waited for part of the retry-after"


# --------------------------------------------------------------------------- which errors are retried


@pytest.mark.parametrize("kind,error_type", [
    ("auth", "auth"),
    ("forbidden", "auth"),
    ("bad_request", "invalid_request"),
    ("context_length", "context_length"),
    ("content_filter", "content_filter"),
])
def test_non_retryable_errors_are_never_retried(daemon_factory, fake, kind, error_type):
    d = make(daemon_factory, {"max_retries": 3, "base_delay_ms": 1},
             # a content filter ends the request unless the chain opts in to falling back
             chain_options={"explicit": {"on_content_filter": "fallback"}})
    fake.script(mid("gpt-4o"), [], then=kind)
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o", error_type), ("claude-3-5-sonnet", None)]
    assert n_requests(fake, "gpt-4o") == 1


def test_content_filter_is_not_retried_and_ends_the_request(daemon_factory, fake):
    # the default on_content_filter: the caller gets -32007 after one call, no retry, no fallback
    d = make(daemon_factory, {"max_retries": 3, "base_delay_ms": 1})
    fake.script(mid("gpt-4o"), [], then="content_filter")
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=TWO, timeout_ms=10000))
    err = reply.get("error")
    assert err and err["code"] == -32007, reply
    assert [(a["model"], a["error_type"]) for a in err["data"]["attempts"]] == [("gpt-4o", "content_filter")]
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "claude-3-5-sonnet") == 0


@pytest.mark.parametrize("kind,error_type", [
    ("server_error", "server_error"),
    ("unavailable", None),  # 503: server_error or overloaded, both retryable
    ("gateway", "server_error"),
])
@pytest.mark.parametrize("max_retries", [1, 2])
def test_retryable_errors_retried_max_retries_times(daemon_factory, fake, kind, error_type, max_retries):
    d = make(daemon_factory, {"max_retries": max_retries, "base_delay_ms": 5, "max_delay_ms": 20})
    fake.script(mid("gpt-4o"), [kind] * 10, then=kind)
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    att = res["attempts"]
    assert [a["model"] for a in att] == ["gpt-4o"] * (max_retries + 1) + ["claude-3-5-sonnet"]
    if error_type:
        assert all(a["error_type"] == error_type for a in att[:-1]), att
    assert n_requests(fake, "gpt-4o") == max_retries + 1
    assert res["fallback_count"] == 1, "fallback_count counts models, not attempts"


@pytest.mark.parametrize("max_retries", [1, 2])
def test_rate_limited_retried_max_retries_times_when_alone(daemon_factory, fake, max_retries):
    # a 429 with Retry-After is retried only when nothing else can serve (a one-model chain here; with another
    # model left the request moves on at once, see test_rate_limited_with_retry_after_moves_on_...)
    d = make(daemon_factory, {"max_retries": max_retries, "base_delay_ms": 5, "max_delay_ms": 20})
    step = {"kind": "rate_limited", "retry_after": 0.05}
    fake.script(mid("gpt-4o"), [step] * 10, then=step)
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o"], timeout_ms=10000))
    err = reply.get("error")
    assert err and err["code"] == -32001, reply
    att = err["data"]["attempts"]
    assert [(a["model"], a["error_type"]) for a in att] == [("gpt-4o", "rate_limited")] * (max_retries + 1), att
    assert n_requests(fake, "gpt-4o") == max_retries + 1


def test_server_error_then_ok_served_on_retry(daemon_factory, fake):
    d = make(daemon_factory, {"max_retries": 1, "base_delay_ms": 10})
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "gpt-4o" and res["fallback_count"] == 0
    assert [(a["model"], a["outcome"]) for a in res["attempts"]] == [("gpt-4o", "error"), ("gpt-4o", "success")]
    assert n_requests(fake, "gpt-4o") == 2 and n_requests(fake, "claude-3-5-sonnet") == 0
    # each attempt is its own call-log row
    rows = H.flushed_rows(d, "WHERE request_id = ?", (res["request_id"],))
    assert [(r["model_name"], r["success"], r["attempt_index"]) for r in rows] == [
        ("gpt-4o", 0, 0), ("gpt-4o", 1, 1)], rows


def test_retries_off_with_max_retries_zero(daemon_factory, fake):
    d = make(daemon_factory, {"max_retries": 0})
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert n_requests(fake, "gpt-4o") == 1


def test_retry_stops_when_failure_trips_breaker(daemon_factory, fake):
    d = make(daemon_factory, {"max_retries": 3, "base_delay_ms": 1},
             breaker={"consecutive_failures": 1, "failure_rate": 0, "open_ms": 600000})
    fake.script(mid("gpt-4o"), [], then="server_error")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet"
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"]
    assert n_requests(fake, "gpt-4o") == 1, "a retry asks the breaker first"
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"


# --------------------------------------------------------------------------- retry budget


def test_retry_budget_stops_retries_when_provider_fails_broadly(daemon_factory, fake):
    # budget_tokens 4: retries allowed while tokens > 2. Every failed attempt on an openai model costs 1.
    d = make(daemon_factory, {"max_retries": 1, "base_delay_ms": 1, "budget_tokens": 4})
    fake.script(mid("gpt-4o"), [], then="server_error")
    per_request = []
    for _ in range(6):
        before = n_requests(fake, "gpt-4o")
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
        assert res["model_used"] == "claude-3-5-sonnet"
        sent = n_requests(fake, "gpt-4o") - before
        assert sent == sum(1 for a in res["attempts"] if a["model"] == "gpt-4o")
        per_request.append(sent)
    # 4 -> 3 (retry ok) -> 2; then 2 -> 1, 1 -> 0 ...: no more retries
    assert per_request[0] == 2, per_request
    assert all(n < 2 for n in per_request[1:]), f"retries went on after the budget ran out: {per_request}"
    assert per_request == [2, 1, 1, 1, 1, 1]

    # the budget is the provider's: another openai model gets no retry either...
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o-mini", "claude-3-5-sonnet"], timeout_ms=10000))
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o-mini", "claude-3-5-sonnet"]
    assert n_requests(fake, "gpt-4o-mini") == 1
    # ...while an anthropic model still does
    fake.script(mid("claude-3-haiku"), ["server_error"], then="ok")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["claude-3-haiku", "gemini-pro"], timeout_ms=10000))
    assert res["model_used"] == "claude-3-haiku"
    assert n_requests(fake, "claude-3-haiku") == 2


def test_default_budget_allows_more_retries(daemon_factory, fake):
    # the same scenario with the default budget (10): retries continue while tokens > 5
    d = make(daemon_factory, {"max_retries": 1, "base_delay_ms": 1})
    fake.script(mid("gpt-4o"), [], then="server_error")
    per_request = []
    for _ in range(5):
        before = n_requests(fake, "gpt-4o")
        H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))
        per_request.append(n_requests(fake, "gpt-4o") - before)
    # 10 -> 9 -> 8; 8 -> 7 -> 6; 6 -> 5 (no retry at 5); 5 -> 4 ...
    assert per_request == [2, 2, 1, 1, 1], per_request


# --------------------------------------------------------------------------- the one deadline


# Bounds of the deadline tests below: deadline + MARGIN_S, far below what a missed deadline waits for (a 60 s
# hang, the 15 s provider timeout, or backoff waits adding up to a minute).
MARGIN_S = 5.0


def test_deadline_never_exceeded_by_slow_retries(daemon_factory, fake):
    d = make(daemon_factory, {"max_retries": 3, "base_delay_ms": 100})
    # a one-model chain (with another model left, a Retry-After moves the request on instead of waiting): the
    # first attempt asks for 2 s (fits in 4 s, however slow that attempt is on a busy machine), the retry
    # hangs: the deadline cuts it
    fake.script(mid("gpt-4o"), [{"kind": "rate_limited", "retry_after": 2}, "hang"], then="hang")
    t0 = time.monotonic()
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o"], timeout_ms=4000), timeout=30)
    elapsed = time.monotonic() - t0
    assert 2 <= elapsed < 4 + MARGIN_S, f"reply after {elapsed:.2f} s with timeout_ms 4000"
    err = reply.get("error")
    assert err and err["code"] == -32002, reply
    data = err["data"]
    assert data["latency_ms"] <= 4000 + MARGIN_S * 1000, data["latency_ms"]
    assert [a["model"] for a in data["attempts"]] == ["gpt-4o", "gpt-4o"], data["attempts"]
    assert data["attempts"][0]["error_type"] == "rate_limited"
    assert n_requests(fake, "gpt-4o") == 2


def test_deadline_shares_leave_room_for_the_last_model(daemon_factory, fake):
    # two silent models ahead of a healthy one, a 4 s deadline: each attempt leaves a reserve for the models
    # after it (min(later x 5 s, remaining / 2)), so the hangs are cut by their shares and the last model
    # still serves inside the deadline; a timed-out model is not retried while another is left
    d = make(daemon_factory, {"max_retries": 3, "base_delay_ms": 100})
    fake.script(mid("gpt-4o"), [], then="hang")
    fake.script(mid("claude-3-5-sonnet"), [], then="hang")
    t0 = time.monotonic()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet", "gemini-pro"],
                                          timeout_ms=4000), timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed < 4 + MARGIN_S, f"reply after {elapsed:.2f} s with timeout_ms 4000"
    assert res["model_used"] == "gemini-pro", res
    att = res["attempts"]
    assert [(a["model"], a["error_type"]) for a in att] == [
        ("gpt-4o", "timeout"), ("claude-3-5-sonnet", "timeout"), ("gemini-pro", None)], att
    # the first share: 4 s minus a reserve of min(2 x 5 s, 4 s / 2) = 2 s (a cut never comes early)
    assert 1900 <= att[0]["latency_ms"] <= 2000 + MARGIN_S * 1000, att[0]
    assert res["latency_ms"] <= 4000 + MARGIN_S * 1000
    assert n_requests(fake, "gpt-4o") == 1 and n_requests(fake, "claude-3-5-sonnet") == 1


def test_deadline_bounds_backoff_retries_across_chain(daemon_factory, fake):
    # every model fails retryably with backoff waits up to 10 s (5 retries x 3 models, about a minute on
    # average without a deadline): the request still ends by its deadline
    d = make(daemon_factory, {"max_retries": 5, "base_delay_ms": 400, "max_delay_ms": 10000})
    for m in ("gpt-4o", "claude-3-5-sonnet", "gemini-pro"):
        fake.script(mid(m), [], then="server_error")
    t0 = time.monotonic()
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, timeout_ms=800), timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed < 0.8 + MARGIN_S, f"reply after {elapsed:.2f} s with timeout_ms 800"
    err = reply.get("error")
    assert err and err["code"] in (-32001, -32002), reply
    assert err["data"]["latency_ms"] <= 800 + MARGIN_S * 1000
