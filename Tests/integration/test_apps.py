"""[apps.NAME] rules: who is calling (docs/protocol.md, "Who is calling", "### [apps.NAME]", -32004, -32009).

The daemon names every caller on its Unix sockets: the first rule (in name order) matching its uid and/or
executable (/proc/PID/comm), else the executable name. The name is in the call log (`app`), cost.report's
`by_app`, the `app` label of fallbackd_requests_total and in `attempts.recent`. A rule's `tasks` forbids other
tasks (-32009 / HTTP 403); its `daily_budget_usd` refuses requests once spent (-32004 with data.app / HTTP
429), and the spend survives a restart.

Callers with other executable names are this Python started through a symlink with that name
(ops_lib.call_as); fallbackctl is a caller named "fallbackctl".
"""

import json
import os
import shutil

import pytest

import fbd_harness as H
import ops_lib as O
from facade_lib import chat_body, http_socket, metric_families, raw_request, samples, value

UID = os.getuid()
COMM = O.own_comm()


def apps(rules: dict):
    def mutate(cfg):
        cfg["apps"] = json.loads(json.dumps(rules))
    return mutate


@pytest.fixture
def tmp():
    d = H.short_tmpdir("fbd-apps-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def provider_calls(fake) -> int:
    return len(fake.requests())


def apps_in_log(d) -> list:
    return [r["app"] for r in H.flushed_rows(d)]


def by_app(d) -> dict:
    return {row["key"]: row for row in d.call("cost.report", {"days": 1})["by_app"]}


def recent_apps(d) -> list:
    return [a.get("app") for a in d.call("attempts.recent", {"limit": 100})["attempts"]]


def requests_metric(d, app, task="default", outcome="served") -> float:
    """fallbackd_requests_total{task, outcome, app}; task=None sums over every task label (a refused request
    ran no chain: the daemon labels those task="refused", which docs/protocol.md does not list)."""
    if task is not None:
        return value(metric_families(d), "fallbackd_requests", "fallbackd_requests_total", task=task,
                     outcome=outcome, app=app)
    return sum(s.value for s in samples(metric_families(d), "fallbackd_requests", "fallbackd_requests_total",
                                        outcome=outcome, app=app))


def http_complete(d, model="default"):
    return raw_request(http_socket(d), "POST", "/v1/chat/completions", chat_body(model=model))


# --------------------------------------------------------------------------- naming the caller


def test_uid_rule_names_the_app_everywhere(daemon_factory):
    d = daemon_factory(cfg_mutate=apps({"ops-uid": {"uid": UID}}))
    H.complete_ok(d, O.MSGS)
    H.complete_ok(d, O.MSGS, task="cheap")
    r = http_complete(d)
    assert r.status == 200, r

    assert apps_in_log(d) == ["ops-uid"] * 3
    rows = by_app(d)
    assert set(rows) == {"ops-uid"}, rows
    assert rows["ops-uid"]["requests"] == 3 and rows["ops-uid"]["spend_usd"] > 0, rows
    assert recent_apps(d) == ["ops-uid"] * 3
    assert requests_metric(d, "ops-uid") == 2  # the default task: one RPC, one HTTP
    assert requests_metric(d, "ops-uid", task="cheap") == 1
    assert requests_metric(d, COMM) == 0


def test_executable_rule_names_the_app(daemon_factory):
    d = daemon_factory(cfg_mutate=apps({"pyapp": {"executable": COMM}}))
    H.complete_ok(d, O.MSGS)
    assert http_complete(d).status == 200
    assert apps_in_log(d) == ["pyapp", "pyapp"]
    assert set(by_app(d)) == {"pyapp"}
    assert recent_apps(d) == ["pyapp", "pyapp"]
    assert requests_metric(d, "pyapp") == 2


def test_executable_list_and_uid_list_match(daemon_factory):
    d = daemon_factory(cfg_mutate=apps({"listed": {"uid": [4242, UID], "executable": ["nosuchprog", COMM]}}))
    H.complete_ok(d, O.MSGS)
    assert apps_in_log(d) == ["listed"]


def test_caller_without_matching_rule_gets_its_executable_name(daemon_factory):
    rules = {
        "other-uid": {"uid": 4242},
        "other-exe": {"executable": "nosuchprog"},
        "both-needed": {"uid": UID, "executable": "nosuchprog"},  # uid matches, executable does not
    }
    d = daemon_factory(cfg_mutate=apps(rules))
    H.complete_ok(d, O.MSGS)
    assert http_complete(d).status == 200
    assert apps_in_log(d) == [COMM, COMM]
    assert set(by_app(d)) == {COMM}
    assert recent_apps(d) == [COMM, COMM]
    assert requests_metric(d, COMM) == 2


def test_no_rules_at_all_names_the_executable(daemon):
    H.complete_ok(daemon, O.MSGS)
    assert apps_in_log(daemon) == [COMM]
    assert list(by_app(daemon)) == [COMM]


def test_first_rule_in_name_order_wins(daemon_factory):
    # written b first: the order of names decides, not the order in the file
    d = daemon_factory(cfg_mutate=apps({"b-second": {"uid": UID}, "a-first": {"executable": COMM}}))
    H.complete_ok(d, O.MSGS)
    assert apps_in_log(d) == ["a-first"]


def test_each_executable_is_its_own_app(daemon_factory, tmp, fallbackd_bin):
    d = daemon_factory(cfg_mutate=apps({"billing": {"executable": "billing-app"},
                                        "search": {"executable": "search-app"}}))
    replies = O.call_as(tmp, "billing-app", d.socket, [O.complete_req(1), O.complete_req(2, task="cheap")])
    assert all("result" in r for r in replies), replies
    replies = O.call_as(tmp, "search-app", d.socket, [O.complete_req(1)])
    assert all("result" in r for r in replies), replies
    rc, out, err = O.run_daemon_once(O.fallbackctl_path(fallbackd_bin), ["--socket", d.socket, "complete", "hello"])
    assert rc == 0, (rc, out, err)
    H.complete_ok(d, O.MSGS)  # this test process: no rule matches

    rows = by_app(d)
    assert {k: v["requests"] for k, v in rows.items()} == {"billing": 2, "search": 1, "fallbackctl": 1, COMM: 1}, rows
    assert sorted(apps_in_log(d)) == sorted(["billing", "billing", "search", "fallbackctl", COMM])
    fams = metric_families(d)
    got = {s.labels["app"]: s.value for s in fams["fallbackd_requests"].samples
           if s.name == "fallbackd_requests_total" and s.labels.get("outcome") == "served"
           and s.labels.get("task") == "default"}
    assert got == {"billing": 1, "search": 1, "fallbackctl": 1, COMM: 1}, got


# --------------------------------------------------------------------------- tasks


def test_tasks_rule_forbids_other_tasks_over_rpc(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=apps({"narrow": {"uid": UID, "tasks": ["cheap", "complex_reasoning"]}}))
    assert H.complete_ok(d, O.MSGS, task="cheap")["chain"] == "cheap"
    n = provider_calls(fake)
    for task, params in [("default", {}), ("default", {"task": "default"}), ("whatever", {"task": "whatever"}),
                         ("explicit", {"models": ["gpt-4o"]})]:
        err = H.rpc_error(H.complete_reply(d, O.MSGS, **params), -32009)
        data = err.get("data")
        assert data == {"app": "narrow", "task": task, "allowed_tasks": ["cheap", "complex_reasoning"]}, err
    assert provider_calls(fake) == n, "a forbidden request reached a provider"
    assert requests_metric(d, "narrow", task=None, outcome="forbidden") == 4
    assert H.complete_ok(d, O.MSGS, task="complex_reasoning")["chain"] == "complex_reasoning"


def test_explicit_in_tasks_allows_a_models_list(daemon_factory):
    d = daemon_factory(cfg_mutate=apps({"lists": {"executable": COMM, "tasks": ["explicit"]}}))
    res = H.complete_ok(d, O.MSGS, models=["gpt-4o-mini"])
    assert res["chain"] == "explicit" and res["model_used"] == "gpt-4o-mini"
    err = H.rpc_error(H.complete_reply(d, O.MSGS, task="cheap"), -32009)
    assert err["data"] == {"app": "lists", "task": "cheap", "allowed_tasks": ["explicit"]}, err


def test_tasks_rule_forbids_over_http_with_403(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=apps({"narrow": {"uid": UID, "tasks": ["cheap"]}}))
    n = provider_calls(fake)
    r = http_complete(d, model="default")
    assert r.status == 403, r
    err = r.json()["error"]
    assert err["code"] == "forbidden" and err["type"] == "permission_error", err
    assert err.get("fallbackd", {}).get("app") == "narrow", err
    assert provider_calls(fake) == n
    ok = http_complete(d, model="cheap")
    assert ok.status == 200, ok
    assert ok.json()["model"] == H.CHAINS["cheap"][0]


# --------------------------------------------------------------------------- budgets


def test_zero_budget_refuses_over_rpc_and_http(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=apps({"broke": {"uid": UID, "daily_budget_usd": 0.0}}))
    err = H.rpc_error(H.complete_reply(d, O.MSGS), -32004)
    data = err["data"]
    assert data.get("app") == "broke", err
    assert data.get("budget_usd") == 0.0 and "resets_at" in data and "resets_at_ms" in data, err
    assert "broke" in err["message"], err
    r = http_complete(d)
    assert r.status == 429, r
    body = r.json()["error"]
    assert body["code"] == "budget_exceeded", body
    assert body.get("fallbackd", {}).get("app") == "broke", body
    assert int(r.headers.get("retry-after", "0")) > 0, r.headers
    assert not fake.requests(), "a request past the app's budget reached a provider"
    assert requests_metric(d, "broke", task=None, outcome="budget_exceeded") == 2


def test_one_call_spends_a_tiny_budget(daemon_factory, fake):
    budget = 1e-9
    d = daemon_factory(cfg_mutate=apps({"tiny": {"executable": COMM, "daily_budget_usd": budget}}))
    first = H.complete_ok(d, O.MSGS)
    assert first["cost_usd"] > budget
    n = provider_calls(fake)
    err = H.rpc_error(H.complete_reply(d, O.MSGS, task="cheap"), -32004)  # any task: the app's budget
    assert err["data"]["app"] == "tiny", err
    assert H.approx(err["data"]["budget_usd"], budget), err
    assert err["data"]["spent_usd"] >= budget and H.approx(err["data"]["spent_usd"], first["cost_usd"]), err
    assert provider_calls(fake) == n


def test_budget_of_one_app_does_not_stop_another(daemon_factory, tmp):
    d = daemon_factory(cfg_mutate=apps({"billing": {"executable": "billing-app", "daily_budget_usd": 0.0}}))
    [r1] = O.call_as(tmp, "billing-app", d.socket, [O.complete_req(1)])
    assert r1.get("error", {}).get("code") == -32004 and r1["error"]["data"]["app"] == "billing", r1
    [r2] = O.call_as(tmp, "search-app", d.socket, [O.complete_req(1)])
    assert "result" in r2, r2
    assert H.complete_ok(d, O.MSGS)["model_used"] == "gpt-4o"


def test_app_budget_survives_a_restart(daemon_factory, fake):
    budget = 1e-9
    d = daemon_factory(cfg_mutate=apps({"tiny": {"uid": UID, "daily_budget_usd": budget}}))
    first = H.complete_ok(d, O.MSGS)
    assert first["cost_usd"] > budget
    O.restart(d)
    n = provider_calls(fake)
    err = H.rpc_error(H.complete_reply(d, O.MSGS), -32004)
    assert err["data"]["app"] == "tiny", err
    assert H.approx(err["data"]["spent_usd"], first["cost_usd"]), \
        f"after a restart the app's spend is {err['data']['spent_usd']}, the call log says {first['cost_usd']}"
    assert provider_calls(fake) == n


def test_reload_applies_new_app_rules(daemon):
    H.complete_ok(daemon, O.MSGS)
    O.rewrite(daemon, apps({"narrow": {"uid": UID, "tasks": ["cheap"]}}))
    r = O.reload_ok(daemon)
    assert "apps" in r["settings"], r
    err = H.rpc_error(H.complete_reply(daemon, O.MSGS), -32009)
    assert err["data"]["app"] == "narrow", err
    assert H.complete_ok(daemon, O.MSGS, task="cheap")["chain"] == "cheap"
    assert apps_in_log(daemon) == [COMM, "narrow"]


# --------------------------------------------------------------------------- config errors


def _check(fallbackd_bin, fake, tmp, rules):
    kf = O.key_file(tmp, "compat.key", H.COMPAT_KEY)
    cfg = H.config_dict(fake, os.path.join(tmp, "calls.sqlite"), kf)
    cfg["apps"] = rules
    path = os.path.join(tmp, "apps.toml")
    O.write_config(path, cfg)
    return H.run_check_config(fallbackd_bin, path)


def test_rule_without_uid_or_executable_is_a_config_error(fallbackd_bin, fake, tmp):
    rc, out, err = _check(fallbackd_bin, fake, tmp, {"vague": {"daily_budget_usd": 1.0}})
    assert rc == 1, (rc, out, err)
    assert "config error: apps.vague" in err and "uid or executable" in err, err


def test_tasks_naming_no_chain_is_a_config_error_with_a_suggestion(fallbackd_bin, fake, tmp):
    rc, out, err = _check(fallbackd_bin, fake, tmp, {"typo": {"uid": UID, "tasks": ["cheap", "complex_reasonin"]}})
    assert rc == 1, (rc, out, err)
    assert "apps.typo.tasks" in err and "complex_reasonin" in err, err
    assert "did you mean 'complex_reasoning'?" in err, err


def test_every_bad_app_rule_is_reported(fallbackd_bin, fake, tmp):
    """--check-config reports every problem: two bad rules give two lines."""
    rc, out, err = _check(fallbackd_bin, fake, tmp, {"a-vague": {"daily_budget_usd": 1.0},
                                                     "b-typo": {"uid": UID, "tasks": ["chep"]}})
    assert rc == 1, (rc, out, err)
    assert "apps.a-vague" in err, err
    assert "apps.b-typo.tasks" in err, f"only the first bad [apps] rule is reported: {err!r}"
