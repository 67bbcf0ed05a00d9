"""Shadow testing against the real daemon: sampling, opt in/out, the caller's reply and latency left alone,
deadline, call log rows and shadow_results.

The default chain is gpt-4o -> claude-3-5-sonnet -> gemini-pro, so a request served by gpt-4o is shadowed
by claude-3-5-sonnet (the next model) unless [shadow.pairs] says otherwise. Health reordering is off.
Shared constants and helpers live in shadow_lib.py.

Shadow calls run beside the request and may reach the provider after the reply. "No shadow call was made"
is therefore checked after stop_and_count (a clean stop waits for every shadow the daemon started), never
after a pause; "the reply did not wait for its shadow" is checked by order of events (the shadow is held at
the fake until released), never by comparing latencies.
"""

import json
import time

import fbd_harness as H
from shadow_lib import (
    INVALID_PARAMS,
    MSGS,
    PRIMARY,
    SHADOW,
    assert_same_reply,
    close,
    cost_of,
    jaccard,
    mid,
    n_requests,
    reply_of,
    shadow_cfg,
    stop_and_count,
    user,
    wait_answered,
    wait_requests,
)


# --------------------------------------------------------------------------- opt-in, rows, results


def test_opt_in_shadows_once_and_leaves_reply_alone(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    plain = H.complete_ok(d, MSGS)
    shadowed = H.complete_ok(d, MSGS, shadow=True)
    assert_same_reply(shadowed, plain)
    wait_requests(fake, SHADOW, 1)
    assert n_requests(fake, PRIMARY) == 2
    # the shadow got the caller's conversation
    body = fake.requests(model=mid(SHADOW))[0]["body"]
    assert MSGS[0]["content"] in json.dumps(body), body

    # call log: one shadow row beside the request's served row
    rows = H.wait_count(lambda: H.shadow_calls(d), 1, what="shadow call-log rows")
    assert len(rows) == 1
    row = rows[0]
    exp_s = reply_of(SHADOW)
    assert row["chain"] == "shadow" and row["shadow"] == 1 and row["served"] == 0, row
    assert row["model_name"] == SHADOW and row["provider"] == "anthropic"
    assert row["task"] == "default" and row["request_id"] == shadowed["request_id"]
    assert row["success"] == 1 and row["error_type"] is None
    assert (row["input_tokens"], row["output_tokens"]) == (exp_s["input_tokens"], exp_s["output_tokens"])
    assert close(row["cost_usd"], cost_of(SHADOW))
    assert row["fallback_count"] is None and row["primary_cost_usd"] is None
    served = d.db_rows("WHERE request_id = ? AND shadow = 0", (shadowed["request_id"],))
    assert len(served) == 1 and served[0]["served"] == 1 and served[0]["model_name"] == PRIMARY

    # shadow_results: both sides
    res = H.wait_count(lambda: H.shadow_results(d), 1, what="shadow_results rows")
    assert len(res) == 1
    s = res[0]
    exp_p = reply_of(PRIMARY)
    assert s["request_id"] == shadowed["request_id"] and s["task"] == "default"
    assert s["primary_model"] == PRIMARY and s["shadow_model"] == SHADOW
    assert s["primary_success"] == 1 and s["shadow_success"] == 1
    assert s["primary_error_type"] is None and s["shadow_error_type"] is None
    assert (s["primary_input_tokens"], s["primary_output_tokens"]) == (exp_p["input_tokens"], exp_p["output_tokens"])
    assert (s["shadow_input_tokens"], s["shadow_output_tokens"]) == (exp_s["input_tokens"], exp_s["output_tokens"])
    assert close(s["primary_cost_usd"], shadowed["cost_usd"]) and close(s["primary_cost_usd"], cost_of(PRIMARY))
    assert close(s["shadow_cost_usd"], cost_of(SHADOW))
    assert s["primary_output_length"] == len(exp_p["content"]) == len(shadowed["content"])
    assert s["shadow_output_length"] == len(exp_s["content"])
    assert s["primary_latency_ms"] >= 0 and s["shadow_latency_ms"] >= 0
    assert 0.0 <= s["similarity"] <= 1.0
    assert close(s["similarity"], jaccard(exp_p["content"], exp_s["content"])), (s["similarity"], exp_p, exp_s)
    assert s["ts_ms"] <= H.now_ms()

    # cost.report keeps shadow spend apart from the caller's spend
    rep = d.call("cost.report", {"days": 1})
    tot = rep["totals"]
    assert tot["shadow_calls"] == 1 and close(tot["shadow_spend_usd"], cost_of(SHADOW))
    assert tot["attempts"] == 2 and tot["requests"] == 2
    assert close(tot["spend_usd"], 2 * cost_of(PRIMARY)), "shadow spend leaked into spend_usd"
    by_model = {r["key"]: r for r in rep["by_model"]}
    assert by_model[SHADOW]["shadow_calls"] == 1 and by_model[SHADOW]["attempts"] == 0
    assert by_model[SHADOW]["requests"] == 0 and by_model[SHADOW]["spend_usd"] == 0

    # exactly one shadow, the opted-in request's: sample_rate 0 did not shadow the plain one
    shadows, rows = stop_and_count(d, fake, SHADOW)
    assert shadows == 1 and len(fake.requests()) == 3, "exactly one extra provider request"
    assert [x["request_id"] for x in rows] == [shadowed["request_id"]]
    assert [x["request_id"] for x in H.shadow_results(d)] == [shadowed["request_id"]]


def test_opt_out_wins_over_full_sampling(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=1.0))
    for _ in range(5):
        assert H.complete_ok(d, MSGS, shadow=False)["model_used"] == PRIMARY
    # the control: without the opt-out, full sampling does shadow
    sampled = H.complete_ok(d, MSGS)["request_id"]
    shadows, rows = stop_and_count(d, fake, SHADOW)
    assert shadows == 1 and n_requests(fake, PRIMARY) == 6 and len(fake.requests()) == 7
    assert [x["request_id"] for x in rows] == [sampled], "an opted-out request was shadowed"
    assert [x["request_id"] for x in H.shadow_results(d)] == [sampled]


def test_full_sampling_shadows_every_request(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=1.0))
    ids = [H.complete_ok(d, user(i))["request_id"] for i in range(10)]
    shadows, rows = stop_and_count(d, fake, SHADOW)
    assert shadows == 10
    assert sorted(r["request_id"] for r in rows) == sorted(ids)
    assert sorted(r["request_id"] for r in H.shadow_results(d)) == sorted(ids)


def test_shadow_param_must_be_boolean(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    H.rpc_error(H.complete_reply(d, MSGS, shadow="yes"), INVALID_PARAMS)
    H.rpc_error(H.complete_reply(d, MSGS, shadow=1), INVALID_PARAMS)
    assert fake.requests() == []


def test_pairs_and_task_filter(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=1.0, tasks=["summarize"], pairs={PRIMARY: "gemini-flash"}))
    # a task outside `tasks` is not sampled
    H.complete_ok(d, MSGS)
    # a sampled task: shadowed by the configured pair, not the next model of the chain
    r = H.complete_ok(d, MSGS, task="summarize")
    assert r["chain"] == "default" and r["model_used"] == PRIMARY
    # opting in works whatever the task
    opted = H.complete_ok(d, MSGS, shadow=True)
    shadows, rows = stop_and_count(d, fake, "gemini-flash")
    assert shadows == 2 and n_requests(fake, SHADOW) == 0
    assert sorted(x["request_id"] for x in rows) == sorted([r["request_id"], opted["request_id"]])
    res = H.shadow_results(d)
    assert {(x["primary_model"], x["shadow_model"]) for x in res} == {(PRIMARY, "gemini-flash")}
    assert sorted(x["task"] for x in res) == ["default", "summarize"]
    assert sorted(x["request_id"] for x in res) == sorted([r["request_id"], opted["request_id"]])


def test_explicit_models_shadowed_by_next_in_list(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    r = H.complete_ok(d, MSGS, models=["gpt-4o-mini", "gemini-flash"], shadow=True)
    assert r["model_used"] == "gpt-4o-mini" and r["chain"] == "explicit"
    wait_requests(fake, "gemini-flash", 1)
    res = H.wait_count(lambda: H.shadow_results(d), 1, what="shadow_results row")
    assert (res[0]["primary_model"], res[0]["shadow_model"]) == ("gpt-4o-mini", "gemini-flash")
    # the last model of a list has nobody to shadow it
    H.complete_ok(d, MSGS, models=["local-llama"], shadow=True)
    stop_and_count(d, fake, "gemini-flash")
    assert len(fake.requests()) == 3, [x["model"] for x in fake.requests()]
    assert [x["model_name"] for x in H.shadow_calls(d)] == ["gemini-flash"]


def test_fallback_onto_shadow_model_is_not_compared(daemon_factory, fake):
    # gpt-4o fails, claude-3-5-sonnet serves: the shadow (also claude-3-5-sonnet) still runs and is logged,
    # but comparing a model with itself is not stored
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    fake.script(mid(PRIMARY), [], then="server_error")
    r = H.complete_ok(d, MSGS, shadow=True)
    assert r["model_used"] == SHADOW and r["content"] == reply_of(SHADOW)["content"]
    shadows, rows = stop_and_count(d, fake, SHADOW)
    assert shadows == 2, "the fallback's request and the shadow's"
    assert [(x["request_id"], x["model_name"]) for x in rows] == [(r["request_id"], SHADOW)]
    assert H.shadow_results(d) == []


# --------------------------------------------------------------------------- latency and deadline


def test_slow_shadow_does_not_delay_the_caller(daemon_factory, fake):
    # the shadows are held at the fake until released: a reply that waited for its shadow could never come
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    fake.script(mid(SHADOW), [], then="hold")
    n = 3
    ids = []
    for i in range(n):
        r = H.complete_ok(d, user(i), shadow=True, timeout_ms=60000)
        assert r["model_used"] == PRIMARY and r["content"] == reply_of(PRIMARY, user(i))["content"]
        ids.append(r["request_id"])
        assert not [x for x in fake.requests(model=mid(SHADOW)) if x.get("ended")], "a shadow ended before release"
    # every shadow did start, and is still running: none is in the call log yet (cost.report flushes it)
    held = wait_requests(fake, SHADOW, n)
    assert all(x.get("ended") is None for x in held), held
    assert d.call("cost.report", {"days": 1})["totals"]["shadow_calls"] == 0
    fake.release(mid(SHADOW))
    # every shadow still ran to completion after its reply and was compared
    assert [x["ended"] for x in wait_answered(fake, SHADOW, n)] == ["released"] * n
    res = H.wait_count(lambda: H.shadow_results(d), n, what="shadow_results rows")
    assert sorted(x["request_id"] for x in res) == sorted(ids)
    assert all(x["shadow_success"] == 1 and x["primary_success"] == 1 for x in res), res
    # the shadow side ended after the reply, the caller's side before it: order, not speed
    assert all(x["shadow_latency_ms"] >= x["primary_latency_ms"] for x in res), res


def test_shadow_is_cut_at_the_request_deadline(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    fake.script(mid(SHADOW), [], then="hold")  # never released: only the daemon can end it
    r = H.complete_ok(d, MSGS, shadow=True, timeout_ms=500)
    assert r["model_used"] == PRIMARY
    rows = H.wait_count(lambda: H.shadow_calls(d), 1, what="shadow call-log row")
    row = rows[0]
    assert row["success"] == 0 and row["error_type"] == "timeout", row
    # cut at the 500 ms deadline: not before it, and long before the 15 s provider timeout
    assert 400 <= row["latency_ms"] <= 500 + 5000, row
    entry = fake.requests(model=mid(SHADOW))[0]
    assert H.wait_for(lambda: fake.requests(model=mid(SHADOW))[0].get("ended")) == "client_closed", entry
    res = H.wait_count(lambda: H.shadow_results(d), 1, what="shadow_results row")[0]
    assert res["primary_success"] == 1 and res["shadow_success"] == 0
    assert res["shadow_error_type"] == "timeout" and res["similarity"] is None
    assert res["shadow_output_length"] == 0 and res["shadow_cost_usd"] == 0


def test_shutdown_with_shadow_in_flight_logs_the_shadow(daemon_factory, fake):
    # SIGTERM while a shadow call is still running (held at the fake, never released; the request's deadline
    # is 60 s): the daemon exits after its 5 s grace period, not when the shadow would end, and the shadow
    # call it made (cut by the shutdown) is still in the call log like every other provider call.
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0))
    fake.script(mid(SHADOW), [], then="hold")
    r = H.complete_ok(d, MSGS, shadow=True, timeout_ms=60000)
    wait_requests(fake, SHADOW, 1)
    t0 = time.monotonic()
    assert d.stop(timeout=40) == 0
    grace_s = d.cfg["daemon"]["shutdown_grace_ms"] / 1000
    assert time.monotonic() - t0 < grace_s + 15, "shutdown waited far beyond shutdown_grace_ms for a shadow"
    assert fake.requests(model=mid(SHADOW))[0].get("ended") == "client_closed", "the shadow was not cut"
    served = d.db_rows("WHERE request_id = ? AND shadow = 0", (r["request_id"],))
    assert len(served) == 1, served
    shadows = H.shadow_calls(d)
    assert len(shadows) == 1 and shadows[0]["request_id"] == r["request_id"], (
        "the shadow call cut by the shutdown was never written to the call log (rows recorded after the "
        "flusher's final flush are dropped by CallLog.close); stderr says: "
        + "; ".join(l for l in d.stderr_text().splitlines() if "unwritten" in l))
    assert shadows[0]["success"] == 0, shadows[0]
    assert "closed with unwritten rows" not in d.stderr_text()
