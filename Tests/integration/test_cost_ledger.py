"""Cost ledger, max_cost_ratio guard and daily budgets against the real daemon.

Every figure is computed by hand from the test config's prices (fbd_harness.POOL) and the usage the
fake providers report (fake_providers.expected_reply: input tokens = words of the messages, output
tokens = words of the reply). Shadow sampling is switched off (sample_rate 0: the daemon's default is
5 %) and health reordering too, so no request reaches a provider behind a test's back and a failing
primary keeps its place. Shared constants and helpers live in cost_lib.py.
"""

import datetime

import pytest

import fbd_harness as H
from cost_lib import (
    ALL_MODELS_FAILED,
    BUDGET_EXCEEDED,
    CONTENT_FILTERED,
    DAY_MS,
    MSGS,
    close,
    cost_cfg,
    cost_of,
    input_words,
    mid,
    n_requests,
    usage_of,
    with_chain,
)


# --------------------------------------------------------------------------- cost math on every result


def test_cost_fields_without_fallback(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    r = H.complete_ok(d, MSGS)
    tok = usage_of("gpt-4o")
    assert r["model_used"] == "gpt-4o" and r["fallback_count"] == 0
    assert r["usage"] == H.usage(tok[0], tok[1])
    expected = tok[0] / 1000 * 0.005 + tok[1] / 1000 * 0.015  # the seed's gpt-4o prices
    assert close(r["cost_usd"], expected), (r["cost_usd"], expected)
    assert close(r["primary_cost_usd"], expected)
    assert close(r["fallback_cost_delta_usd"], 0.0)
    assert [a["cost_usd"] for a in r["attempts"]] == [pytest.approx(expected, rel=1e-9)]


def test_cheaper_fallback_has_negative_delta(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    fake.script(mid("gpt-4o"), [], then="server_error")  # no usage in a 500: costs nothing
    r = H.complete_ok(d, MSGS)
    assert r["model_used"] == "claude-3-5-sonnet" and r["fallback_count"] == 1
    tok = usage_of("claude-3-5-sonnet")
    assert r["usage"] == H.usage(tok[0], tok[1])
    served = tok[0] / 1000 * 0.003 + tok[1] / 1000 * 0.015
    primary = tok[0] / 1000 * 0.005 + tok[1] / 1000 * 0.015  # gpt-4o's prices on claude's tokens
    assert [a["model"] for a in r["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"]
    assert r["attempts"][0]["cost_usd"] == 0, "a 500 without usage bills nothing"
    assert close(r["attempts"][1]["cost_usd"], served)
    assert close(r["cost_usd"], served)
    assert close(r["primary_cost_usd"], primary), (r["primary_cost_usd"], primary)
    assert close(r["fallback_cost_delta_usd"], served - primary)
    assert r["fallback_cost_delta_usd"] < 0, "claude-3-5-sonnet is cheaper than gpt-4o: the fallback saved money"


def test_pricier_fallback_has_positive_delta(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    fake.script(mid("gpt-4o-mini"), [], then="rate_limited")
    r = H.complete_ok(d, MSGS, task="cheap")
    assert r["model_used"] == "claude-3-haiku" and r["chain"] == "cheap" and r["fallback_count"] == 1
    tok = usage_of("claude-3-haiku")
    served = tok[0] / 1000 * 0.00025 + tok[1] / 1000 * 0.00125
    primary = tok[0] / 1000 * 0.00015 + tok[1] / 1000 * 0.0006
    assert close(r["cost_usd"], served)
    assert close(r["primary_cost_usd"], primary)
    assert close(r["fallback_cost_delta_usd"], served - primary)
    assert r["fallback_cost_delta_usd"] > 0, "claude-3-haiku costs more than gpt-4o-mini"


@pytest.mark.parametrize("failing,kind", [
    ("gpt-4o", "empty"),                # OpenAI 200 with choices [] and usage.prompt_tokens
    ("claude-3-5-sonnet", "safety_stop"),  # Anthropic refusal with usage.input_tokens
    ("gemini-pro", "empty"),            # Gemini candidate without parts, usageMetadata.promptTokenCount
])
def test_failed_attempt_with_billed_usage_adds_to_cost(daemon_factory, fake, failing, kind):
    # Anthropic's refusal is a content_filter failure, which ends the request (-32007) unless the chain says
    # on_content_filter = "fallback": the explicit chain does here, so the billed failure is followed by a
    # served fallback (the -32007 side is test_content_filter_error_carries_the_billed_attempt below)
    d = daemon_factory(cfg_mutate=H.compose(cost_cfg(), content_filter_fallback("explicit")))
    fake.script(mid(failing), [], then=kind)
    r = H.complete_ok(d, MSGS, models=[failing, "gpt-4o-mini"])
    assert r["model_used"] == "gpt-4o-mini"
    att = r["attempts"]
    assert [a["model"] for a in att] == [failing, "gpt-4o-mini"] and att[0]["outcome"] == "error"
    billed_in = input_words()  # the fake bills the prompt, no output
    failed_cost = cost_of(failing, (billed_in, 0))
    tok = usage_of("gpt-4o-mini")
    served = cost_of("gpt-4o-mini", tok)
    primary = cost_of(failing, tok)  # an explicit list's primary is its first model
    assert failed_cost > 0
    assert close(att[0]["cost_usd"], failed_cost), (att[0], failed_cost)
    assert close(att[1]["cost_usd"], served)
    assert close(r["cost_usd"], failed_cost + served), "cost_usd sums every attempt, the failed one included"
    assert close(r["primary_cost_usd"], primary)
    assert close(r["fallback_cost_delta_usd"], failed_cost + served - primary)
    # the call log keeps the billed tokens of the failed attempt, and the served row its primary cost
    rows = H.flushed_rows(d, "WHERE request_id = ?", (r["request_id"],))
    failed_row, served_row = rows
    assert failed_row["model_name"] == failing and failed_row["success"] == 0
    assert (failed_row["input_tokens"], failed_row["output_tokens"]) == (billed_in, 0)
    assert close(failed_row["cost_usd"], failed_cost)
    assert failed_row["served"] == 0 and failed_row["fallback_count"] is None and failed_row["primary_cost_usd"] is None
    assert served_row["served"] == 1 and served_row["shadow"] == 0 and served_row["fallback_count"] == 1
    assert close(served_row["primary_cost_usd"], primary) and close(served_row["cost_usd"], served)


def content_filter_fallback(chain):
    def mutate(cfg):
        cfg.setdefault("chain_options", {}).setdefault(chain, {})["on_content_filter"] = "fallback"
    return mutate


def test_content_filter_error_carries_the_billed_attempt(daemon_factory, fake):
    # by default a content filter ends the request: -32007, whose attempts carry the billed refusal's cost,
    # and the call log (so cost.report) counts it as a failed attempt
    d = daemon_factory(cfg_mutate=cost_cfg())
    fake.script(mid("claude-3-5-sonnet"), [], then="safety_stop")
    reply = H.complete_reply(d, MSGS, models=["claude-3-5-sonnet", "gpt-4o-mini"])
    err = H.rpc_error(reply, CONTENT_FILTERED)
    att = err["data"]["attempts"]
    assert [(a["model"], a["error_type"]) for a in att] == [("claude-3-5-sonnet", "content_filter")], att
    failed_cost = cost_of("claude-3-5-sonnet", (input_words(), 0))
    assert failed_cost > 0 and close(att[0]["cost_usd"], failed_cost), (att[0], failed_cost)
    assert n_requests(fake, "gpt-4o-mini") == 0
    rows = H.flushed_rows(d, "WHERE request_id = ?", (err["data"]["request_id"],))
    assert [(r["model_name"], r["success"], r["served"]) for r in rows] == [("claude-3-5-sonnet", 0, 0)], rows
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"]) == (input_words(), 0)
    assert close(rows[0]["cost_usd"], failed_cost)


def test_failed_request_attempt_costs_in_error_data(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("claude-3-5-sonnet"), [], then="empty")
    reply = H.complete_reply(d, MSGS, models=["gpt-4o", "claude-3-5-sonnet"])
    err = H.rpc_error(reply, ALL_MODELS_FAILED)
    att = err["data"]["attempts"]
    assert [a["model"] for a in att] == ["gpt-4o", "claude-3-5-sonnet"]
    assert att[0]["cost_usd"] == 0
    assert close(att[1]["cost_usd"], cost_of("claude-3-5-sonnet", (input_words(), 0)))


# --------------------------------------------------------------------------- max_cost_ratio

# gpt-4o-mini 0.00075 per 1k in+out; gemini-pro 0.00625 (8.3x); claude-3-haiku 0.0015 (exactly 2x)
GUARDED = ["gpt-4o-mini", "gemini-pro", "claude-3-haiku"]


def test_max_cost_ratio_skips_pricier_fallback(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.compose(with_chain("guarded", GUARDED), cost_cfg(max_cost_ratio={"guarded": 2.0})))
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    r = H.complete_ok(d, MSGS, task="guarded")
    assert r["chain"] == "guarded"
    assert r["model_used"] == "claude-3-haiku", "a model at exactly max_cost_ratio x the primary's price is allowed"
    assert [a["model"] for a in r["attempts"]] == ["gpt-4o-mini", "claude-3-haiku"]
    skipped = H.route_entry(r["route"], "gemini-pro")
    assert skipped["reason"] == "over_cost_ratio", r["route"]
    assert H.route_entry(r["route"], "claude-3-haiku")["reason"] != "over_cost_ratio"
    assert n_requests(fake, "gemini-pro") == 0, "a model over the cost ratio must never be requested"
    # cost math still against the primary
    tok = usage_of("claude-3-haiku")
    assert close(r["primary_cost_usd"], cost_of("gpt-4o-mini", tok))
    # the `route` method shows the same plan
    plan = d.call("route", {"task": "guarded"})
    assert H.route_entry(plan["route"], "gemini-pro")["reason"] == "over_cost_ratio"
    assert H.route_entry(plan["route"], "gpt-4o-mini")["reason"] != "over_cost_ratio"
    # other chains are not guarded
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    fake.script(mid("claude-3-haiku"), [], then="server_error")
    r2 = H.complete_ok(d, MSGS, task="cheap")
    assert r2["model_used"] == "gemini-flash"


def test_max_cost_ratio_just_below_price_refuses(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.compose(with_chain("guarded", GUARDED), cost_cfg(max_cost_ratio={"guarded": 1.99})))
    fake.script(mid("gpt-4o-mini"), [], then="server_error")
    reply = H.complete_reply(d, MSGS, task="guarded")
    err = H.rpc_error(reply, ALL_MODELS_FAILED)
    data = err["data"]
    assert [a["model"] for a in data["attempts"]] == ["gpt-4o-mini"]
    assert H.route_entry(data["route"], "gemini-pro")["reason"] == "over_cost_ratio"
    assert H.route_entry(data["route"], "claude-3-haiku")["reason"] == "over_cost_ratio", (
        "claude-3-haiku is 2.0x the primary: over a 1.99 ratio")
    assert n_requests(fake, "gemini-pro") == 0 and n_requests(fake, "claude-3-haiku") == 0
    # with the primary up, the guard changes nothing
    fake.script(mid("gpt-4o-mini"), [], then="ok")
    assert H.complete_ok(d, MSGS, task="guarded")["model_used"] == "gpt-4o-mini"


# --------------------------------------------------------------------------- budgets


def next_midnight_ms(now_ms):
    return (now_ms // DAY_MS + 1) * DAY_MS


def check_refusal(reply, task, budget, spent, before_ms, after_ms):
    err = H.rpc_error(reply, BUDGET_EXCEEDED)
    data = err["data"]
    assert data["task"] == task
    assert close(data["budget_usd"], budget), (data, budget)
    assert close(data["spent_usd"], spent), (data, spent)
    assert data["spent_usd"] >= data["budget_usd"]
    expected_reset = {next_midnight_ms(before_ms), next_midnight_ms(after_ms)}
    assert data["resets_at_ms"] in expected_reset, (data, expected_reset)
    iso = datetime.datetime.fromtimestamp(data["resets_at_ms"] / 1000, datetime.timezone.utc)
    assert data["resets_at"] == iso.strftime("%Y-%m-%dT%H:%M:%S.000Z"), data
    assert data["resets_at"].endswith("T00:00:00.000Z")
    return data


def test_budget_refuses_after_spend_and_survives_restart(daemon_factory, fake):
    per_request = cost_of("gpt-4o", usage_of("gpt-4o"))
    budget = 2.5 * per_request  # reached by the third request
    cfg = cost_cfg(budgets={"default": budget})
    d = daemon_factory(cfg_mutate=cfg)
    served = 0
    refusal = None
    t0 = H.now_ms()
    for _ in range(10):  # bounded: refused by the fourth at the latest
        # every request also runs a shadow on claude-3-5-sonnet: shadow spend has its own cap, not the budget
        reply = H.complete_reply(d, MSGS, shadow=True)
        if "error" in reply:
            refusal = reply
            break
        assert reply["result"]["model_used"] == "gpt-4o"
        served += 1
        H.wait_count(lambda: fake.requests(model=mid("claude-3-5-sonnet")), served, what="shadow requests")
    t1 = H.now_ms()
    assert refusal is not None, "the budget never refused a request"
    assert served == 3, f"requests succeed until the spend reaches the budget: expected 3, served {served}"
    check_refusal(refusal, "default", budget, 3 * per_request, t0, t1)
    assert n_requests(fake, "gpt-4o") == 3, "the refused request reached the primary"
    # still refused; no silent switch to another model
    check_refusal(H.complete_reply(d, MSGS), "default", budget, 3 * per_request, t0, H.now_ms())
    assert n_requests(fake, "gpt-4o") == 3
    # another task without a budget (same chain) still works
    assert H.complete_ok(d, MSGS, task="summarize")["model_used"] == "gpt-4o"
    assert H.complete_ok(d, MSGS, task="cheap")["model_used"] == "gpt-4o-mini"
    # barrier: a clean stop waits for every shadow the daemon started, so the counts below are final
    H.stop_settled(d)
    assert n_requests(fake, "claude-3-5-sonnet") == 3, "a refused request sends nothing, not even a shadow"
    assert n_requests(fake, "gpt-4o") == 4 and n_requests(fake, "gpt-4o-mini") == 1
    count = len(fake.requests())
    assert count == 8, [x["model"] for x in fake.requests()]
    # nothing was logged for the refused requests
    rows = d.db_rows("WHERE task = 'default' AND shadow = 0")
    assert len(rows) == 3, rows
    assert len(H.shadow_calls(d)) == 3

    # a new daemon on the same database restores today's spend
    d2 = daemon_factory(cfg_mutate=H.compose(cfg, lambda c: c["daemon"].__setitem__("database", d.db)))
    check_refusal(H.complete_reply(d2, MSGS), "default", budget, 3 * per_request, t0, H.now_ms())
    assert len(fake.requests()) == count, "refused after restart without calling a provider"
    assert H.complete_ok(d2, MSGS, task="summarize")["model_used"] == "gpt-4o"


def test_budget_counts_billed_failed_attempts(daemon_factory, fake):
    failed_cost = cost_of("gpt-4o", (input_words(), 0))
    budget = failed_cost / 2
    d = daemon_factory(cfg_mutate=cost_cfg(budgets={"default": budget}))
    fake.script(mid("gpt-4o"), [], then="empty")
    t0 = H.now_ms()
    H.rpc_error(H.complete_reply(d, MSGS, models=["gpt-4o"]), ALL_MODELS_FAILED)
    # the failed request was billed: the next one is refused
    check_refusal(H.complete_reply(d, MSGS), "default", budget, failed_cost, t0, H.now_ms())
    assert n_requests(fake, "gpt-4o") == 1


def test_budget_counts_reported_calls(daemon_factory, fake):
    # spend the app reports through `report` is real spend of its task
    reported = cost_of("claude-3-haiku", (1000, 200))
    d = daemon_factory(cfg_mutate=cost_cfg(budgets={"summarize": reported}))
    assert H.complete_ok(d, MSGS, task="summarize")["model_used"] == "gpt-4o"  # under budget
    spent = cost_of("gpt-4o", usage_of("gpt-4o"))
    rep = d.call("report", {"model": "claude-3-haiku", "outcome": "success", "latency_ms": 120, "task": "summarize",
                            "usage": {"input_tokens": 1000, "output_tokens": 200}})
    assert close(rep["cost_usd"], reported)
    t0 = H.now_ms()
    check_refusal(H.complete_reply(d, MSGS, task="summarize"), "summarize", reported, spent + reported, t0, H.now_ms())
    assert len(fake.requests()) == 1


def test_budget_zero_refuses_at_once(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg(budgets={"cheap": 0.0}))
    t0 = H.now_ms()
    check_refusal(H.complete_reply(d, MSGS, task="cheap", shadow=True), "cheap", 0.0, 0.0, t0, H.now_ms())
    assert fake.requests() == [], "a refused request sends nothing"
    assert H.complete_ok(d, MSGS)["model_used"] == "gpt-4o"
    # barrier: a clean stop waits for every shadow the daemon started; only the served request's call is left
    H.stop_settled(d)
    assert [x["model"] for x in fake.requests()] == [mid("gpt-4o")], "a refused request sends nothing, not even a shadow"
    assert H.shadow_calls(d) == []
