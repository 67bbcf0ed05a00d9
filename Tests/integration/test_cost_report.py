"""cost.report and the config checks of the cost sections against the real daemon.

Every figure is computed by hand from the test config's prices (fbd_harness.POOL) and the usage the
fake providers report (fake_providers.expected_reply: input tokens = words of the messages, output
tokens = words of the reply). Shadow sampling is switched off (sample_rate 0: the daemon's default is
5 %) and health reordering too, so no request reaches a provider behind a test's back and a failing
primary keeps its place. Shared constants and helpers live in cost_lib.py.
"""

import os

import time

import pytest

import fbd_harness as H
from cost_lib import (
    ALL_MODELS_FAILED,
    DAY_MS,
    INVALID_PARAMS,
    MSGS,
    WEEK_MS,
    close,
    cost_cfg,
    cost_of,
    input_words,
    mid,
)


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
    # t_mid strictly after every early attempt's start and strictly before every late one's: wait for the
    # millisecond clock to move on (a condition, not a pause)
    t_last_early = H.now_ms()
    assert H.wait_for(lambda: H.now_ms() > t_last_early, interval=0.001)
    t_mid = H.now_ms()
    assert H.wait_for(lambda: H.now_ms() > t_mid, interval=0.001)
    # 2. primary 500 -> claude-3-5-sonnet serves (cheaper: negative extra)
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS))
    # 3. primary bills an empty answer -> claude-3-5-sonnet serves
    fake.script(mid("gpt-4o"), ["empty"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS), billed_failures={"gpt-4o"})
    # 4. cheap chain, every model down: no request served, four failed attempts
    for name in H.CHAINS["cheap"]:
        fake.script(mid(name), ["server_error"], then="ok")
    failed = H.complete_reply(d, MSGS, task="cheap")
    H.rpc_error(failed, ALL_MODELS_FAILED)
    late.add_reply(failed)
    # 5. cheap chain: two successes, one rate-limited primary (pricier fallback: positive extra). Last on the
    # cheap chain: the 429's Retry-After (1 s) parks gpt-4o-mini for every request, so a cheap request right
    # after it would pass it over instead of calling it
    for _ in range(2):
        late.add_reply(H.complete_reply(d, MSGS, task="cheap"))
    fake.script(mid("gpt-4o-mini"), ["rate_limited"], then="ok")
    late.add_reply(H.complete_reply(d, MSGS, task="cheap"))
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
        os.chmod(key_file, 0o600)  # a key file others can read is refused
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
