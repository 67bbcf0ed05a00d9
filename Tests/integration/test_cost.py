"""Cost ledger, max_cost_ratio guard, daily budgets and cost.report against the real daemon.

Every figure is computed by hand from the test config's prices (fbd_harness.POOL) and the usage the
fake providers report (fake_providers.expected_reply: input tokens = words of the messages, output
tokens = words of the reply). Shadow sampling is switched off (sample_rate 0: the daemon's default is
5 %) and health reordering too, so no request reaches a provider behind a test's back and a failing
primary keeps its place.
"""

import datetime
import math
import time

import pytest

import fbd_harness as H
from fake_providers import expected_reply

MSGS = [{"role": "user", "content": "How much does this answer cost?"}]
NO_REORDER = {"degraded_below": 0.0}
NO_SHADOW = {"sample_rate": 0.0}
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS

ALL_MODELS_FAILED = -32001
BUDGET_EXCEEDED = -32004
INVALID_PARAMS = -32602


def mid(name):
    return H.POOL[name].model_id


def usage_of(name, msgs=MSGS):
    """(input, output) tokens the fake reports for an ok answer of pool model `name`."""
    m = H.POOL[name]
    e = expected_reply(m.flavor, m.model_id, msgs)
    return e["input_tokens"], e["output_tokens"]


def cost_of(name, tokens):
    return H.POOL[name].cost(*tokens)


def input_words(msgs=MSGS):
    return sum(len(m["content"].split()) for m in msgs)


def close(a, b):
    return a is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def cost_cfg(**cost):
    """cfg_mutate: no health reordering, no shadows, plus the given cost sections."""
    cost.setdefault("shadow", NO_SHADOW)
    return H.compose(H.resilience(health=NO_REORDER), lambda cfg: H.set_cost(cfg, **cost))


def with_chain(name, models):
    def mutate(cfg):
        cfg["chains"][name] = list(models)
    return mutate


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


# --------------------------------------------------------------------------- cost math on every result


def test_cost_fields_without_fallback(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    r = H.complete_ok(d, MSGS)
    tok = usage_of("gpt-4o")
    assert r["model_used"] == "gpt-4o" and r["fallback_count"] == 0
    assert r["usage"] == {"input_tokens": tok[0], "output_tokens": tok[1]}
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
    assert r["usage"] == {"input_tokens": tok[0], "output_tokens": tok[1]}
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
    d = daemon_factory(cfg_mutate=cost_cfg())
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
    rows = H.wait_count(lambda: d.db_rows("WHERE request_id = ?", (r["request_id"],)), 2, what="call-log rows")
    failed_row, served_row = rows
    assert failed_row["model_name"] == failing and failed_row["success"] == 0
    assert (failed_row["input_tokens"], failed_row["output_tokens"]) == (billed_in, 0)
    assert close(failed_row["cost_usd"], failed_cost)
    assert failed_row["served"] == 0 and failed_row["fallback_count"] is None and failed_row["primary_cost_usd"] is None
    assert served_row["served"] == 1 and served_row["shadow"] == 0 and served_row["fallback_count"] == 1
    assert close(served_row["primary_cost_usd"], primary) and close(served_row["cost_usd"], served)


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
    time.sleep(0.3)
    assert n_requests(fake, "gpt-4o") == 3 and n_requests(fake, "claude-3-5-sonnet") == 3
    assert len(fake.requests()) == 6, "a refused request sends nothing, not even a shadow"
    # still refused; no silent switch to another model
    check_refusal(H.complete_reply(d, MSGS), "default", budget, 3 * per_request, t0, H.now_ms())
    assert len(fake.requests()) == 6
    # another task without a budget (same chain) still works
    assert H.complete_ok(d, MSGS, task="summarize")["model_used"] == "gpt-4o"
    assert H.complete_ok(d, MSGS, task="cheap")["model_used"] == "gpt-4o-mini"
    count = len(fake.requests())
    d.stop()
    # nothing was logged for the refused requests
    rows = d.db_rows("WHERE task = 'default' AND shadow = 0")
    assert len(rows) == 3, rows

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
    time.sleep(0.3)
    assert fake.requests() == [], "a refused request sends nothing, not even a shadow"
    assert H.complete_ok(d, MSGS)["model_used"] == "gpt-4o"


# --------------------------------------------------------------------------- cost.report

FIGURES = ("requests", "attempts", "input_tokens", "output_tokens", "spend_usd", "served_by_fallback",
           "fallback_share", "fallback_extra_usd", "failed_attempts", "failed_cost_usd", "shadow_calls",
           "shadow_spend_usd")
INT_FIGURES = {"requests", "attempts", "input_tokens", "output_tokens", "served_by_fallback", "failed_attempts",
               "shadow_calls"}


class Ledger:
    """What the test expects cost.report to say, built from the replies."""

    def __init__(self):
        self.rows = []  # one per non-shadow attempt

    def add_reply(self, reply, billed_failures=frozenset()):
        if "error" in reply:
            data = reply["error"]["data"]
            task, attempts, result = data["task"], data["attempts"], None
        else:
            result = reply["result"]
            task, attempts = result["task"], result["attempts"]
        for a in attempts:
            ok = a["outcome"] == "success"
            if ok:
                tokens = (result["usage"]["input_tokens"], result["usage"]["output_tokens"])
            elif a["model"] in billed_failures:
                tokens = (input_words(), 0)
            else:
                tokens = (0, 0)
            assert close(a["cost_usd"], cost_of(a["model"], tokens)), (a, tokens)
            row = {"task": task, "model": a["model"], "success": ok, "cost": a["cost_usd"], "tokens": tokens,
                   "served": ok, "fallback_count": None, "primary_cost": None}
            if ok:
                row["fallback_count"] = result["fallback_count"]
                row["primary_cost"] = result["primary_cost_usd"]
            self.rows.append(row)

    def add_reported(self, task, model, success, tokens):
        self.rows.append({"task": task, "model": model, "success": success, "cost": cost_of(model, tokens),
                          "tokens": tokens, "served": success, "fallback_count": None, "primary_cost": None})

    @staticmethod
    def figures(rows):
        served = [r for r in rows if r["served"]]
        fb = [r for r in served if (r["fallback_count"] or 0) > 0]
        failed = [r for r in rows if not r["success"]]
        f = {
            "requests": len(served),
            "attempts": len(rows),
            "input_tokens": sum(r["tokens"][0] for r in rows),
            "output_tokens": sum(r["tokens"][1] for r in rows),
            "spend_usd": sum(r["cost"] for r in rows),
            "served_by_fallback": len(fb),
            "fallback_share": len(fb) / len(served) if served else 0.0,
            "fallback_extra_usd": sum(r["cost"] - r["primary_cost"] for r in fb),
            "failed_attempts": len(failed),
            "failed_cost_usd": sum(r["cost"] for r in failed),
            "shadow_calls": 0,
            "shadow_spend_usd": 0.0,
        }
        return f

    def by(self, key):
        out = {}
        for r in self.rows:
            out.setdefault(r[key], []).append(r)
        return {k: self.figures(v) for k, v in out.items()}

    def totals(self):
        return self.figures(self.rows)


def assert_row(actual, expected, where):
    for f in FIGURES:
        a, e = actual.get(f), expected[f]
        if f in INT_FIGURES:
            assert a == e, f"{where}: {f} is {a}, expected {e}\nrow: {actual}\nexpected: {expected}"
        else:
            assert close(a, e), f"{where}: {f} is {a}, expected {e}\nrow: {actual}\nexpected: {expected}"


def assert_report(report, ledger):
    by_task = {r["key"]: r for r in report["by_task"]}
    by_model = {r["key"]: r for r in report["by_model"]}
    exp_task, exp_model = ledger.by("task"), ledger.by("model")
    assert set(by_task) == set(exp_task), (sorted(by_task), sorted(exp_task))
    assert set(by_model) == set(exp_model), (sorted(by_model), sorted(exp_model))
    for k, e in exp_task.items():
        assert_row(by_task[k], e, f"by_task[{k}]")
    for k, e in exp_model.items():
        assert_row(by_model[k], e, f"by_model[{k}]")
    assert_row(report["totals"], ledger.totals(), "totals")


def test_cost_report_matches_replies(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=cost_cfg())
    early, late = Ledger(), Ledger()
    t_start = H.now_ms()
    # 1. two plain successes on the default chain
    for _ in range(2):
        early.add_reply(H.complete_reply(d, MSGS))
    time.sleep(0.01)
    t_mid = H.now_ms()
    time.sleep(0.01)
    # 2. primary 500 -> claude-3-5-sonnet serves (cheaper: negative extra)
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS))
    # 3. primary bills an empty answer -> claude-3-5-sonnet serves
    fake.script(mid("gpt-4o"), ["empty"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS), billed_failures={"gpt-4o"})
    # 4. cheap chain: two successes, one rate-limited primary (pricier fallback: positive extra)
    for _ in range(2):
        late.add_reply(H.complete_reply(d, MSGS, task="cheap"))
    fake.script(mid("gpt-4o-mini"), ["rate_limited"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS, task="cheap"))
    # 5. cheap chain, every model down: no request served, four failed attempts
    for name in H.CHAINS["cheap"]:
        fake.script(mid(name), ["server_error"], then="ok")
    failed = H.complete_reply(d, MSGS, task="cheap")
    H.rpc_error(failed, ALL_MODELS_FAILED)
    late.add_reply(failed)
    # 6. a task without a chain of its own (default chain), and a reported failure that was billed
    late.add_reply(H.complete_reply(d, MSGS, task="summarize"))
    d.call("report", {"model": "gemini-flash", "outcome": "error", "error_type": "server_error", "latency_ms": 50,
                      "usage": {"input_tokens": 100, "output_tokens": 0}, "task": "summarize"})
    late.add_reported("summarize", "gemini-flash", False, (100, 0))

    everything = Ledger()
    everything.rows = early.rows + late.rows
    # sanity of the mix itself
    tot = everything.totals()
    assert tot["served_by_fallback"] == 3 and tot["failed_attempts"] == 8 and tot["requests"] == 8, tot
    assert tot["fallback_extra_usd"] != 0 and tot["failed_cost_usd"] > 0

    report = d.call("cost.report", {"days": 7, "weeks": 3})
    assert report["days"] == 7
    assert_report(report, everything)
    assert report["totals"]["key"] == "total"

    # weekly: `weeks` rows, oldest first, Monday 00:00 UTC, the current week holding everything
    weekly = report["weekly"]
    assert len(weekly) == 3, weekly
    now = H.now_ms()
    for i, w in enumerate(weekly):
        assert (w["week_start_ms"] // DAY_MS + 3) % 7 == 0 and w["week_start_ms"] % DAY_MS == 0, w
        assert w["week_start"].endswith("T00:00:00.000Z")
        if i:
            assert w["week_start_ms"] - weekly[i - 1]["week_start_ms"] == WEEK_MS
    assert weekly[-1]["week_start_ms"] <= t_start and now < weekly[-1]["week_start_ms"] + WEEK_MS
    assert_row(weekly[-1], everything.totals(), "current week")
    for w in weekly[:-1]:
        assert w["attempts"] == 0 and w["spend_usd"] == 0, w

    # the default period and week count
    default = d.call("cost.report")
    assert default["days"] == 7 and len(default["weekly"]) >= 1
    assert_row(default["totals"], everything.totals(), "default report totals")
    assert len(d.call("cost.report", {"weeks": 12})["weekly"]) == 12

    # since/until select by attempt time
    first = d.call("cost.report", {"since": t_start - 1000, "until": t_mid})
    assert first["days"] is None
    assert_report(first, early)
    second = d.call("cost.report", {"since": t_mid})
    assert_report(second, late)
    empty = d.call("cost.report", {"since": t_start - 3 * DAY_MS, "until": t_start - 2 * DAY_MS})
    assert empty["by_task"] == [] and empty["by_model"] == [] and empty["totals"]["attempts"] == 0


@pytest.mark.parametrize("params", [
    {"days": 0},
    {"days": -1},
    {"days": "7"},
    {"days": 7, "since": 0},
    {"since": 1_000_000, "until": 1_000_000},
    {"since": 1_000_000, "until": 999_999},
    {"since": "yesterday"},
    {"weeks": 0},
    {"bogus": 1},
    [7],
])
def test_cost_report_rejects_bad_params(daemon_factory, params):
    d = daemon_factory(cfg_mutate=cost_cfg())
    H.rpc_error(d.request("cost.report", params), INVALID_PARAMS)


def test_cost_report_rejects_since_in_future(daemon_factory):
    d = daemon_factory(cfg_mutate=cost_cfg())
    # until defaults to now: a since an hour ahead leaves until <= since
    H.rpc_error(d.request("cost.report", {"since": H.now_ms() + 3_600_000}), INVALID_PARAMS)


# --------------------------------------------------------------------------- config checks of the cost sections


def _check(fallbackd_bin, fake_server, mutate):
    tmp = H.short_tmpdir("fbd-cfg-")
    try:
        key_file = f"{tmp}/compat.key"
        with open(key_file, "w") as f:
            f.write(H.COMPAT_KEY)
        cfg = H.config_dict(fake_server, f"{tmp}/calls.sqlite", key_file)
        mutate(cfg)
        path = f"{tmp}/c.toml"
        with open(path, "w") as f:
            f.write(H.to_toml(cfg))
        return H.run_check_config(fallbackd_bin, path)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("cost,key", [
    ({"budgets": {"default": -1.0}}, "budgets.default"),
    ({"budgets": {"default": "lots"}}, "budgets.default"),
    ({"max_cost_ratio": {"cheap": 0.5}}, "max_cost_ratio.cheap"),
    ({"shadow": {"sample_rate": 1.5}}, "shadow.sample_rate"),
    ({"shadow": {"sample_rate": 0.1, "daily_cap_usd": -1.0}}, "shadow.daily_cap_usd"),
    ({"shadow": {"sample_rate": 0.1, "bogus": 1}}, "shadow.bogus"),
    ({"shadow": {"sample_rate": 0.1}, "shadow_pairs": {"gpt-4o": "no-such-model"}}, "shadow.pairs.gpt-4o"),
])
def test_check_config_rejects_bad_cost_sections(fallbackd_bin, fake_server, cost, key):
    rc, out, err = _check(fallbackd_bin, fake_server, lambda cfg: H.set_cost(cfg, **cost))
    assert rc == 1, (out, err)
    assert key in out + err, f"the error should name {key}: {out + err}"


def test_check_config_accepts_cost_sections(fallbackd_bin, fake_server):
    rc, out, err = _check(fallbackd_bin, fake_server, lambda cfg: H.set_cost(
        cfg, budgets={"default": 5.0, "cheap": 0.0}, max_cost_ratio={"cheap": 2.0},
        shadow={"sample_rate": 0.25, "daily_cap_usd": 1.5, "tasks": ["cheap"], "seed": 42},
        shadow_pairs={"gpt-4o": "gemini-flash"}))
    assert rc == 0, (out, err)
