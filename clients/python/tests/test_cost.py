"""Tests for the cost ledger surface: ``cost_report``, ``shadow_report``, ``complete(shadow=...)``,
the result's primary cost and delta, and -32004, against the in-process fake daemon."""

import datetime
import json

import pytest

from fallbackd_client import COST_ROW_FIELDS, SHADOW_PAIR_FIELDS, BudgetExceeded, CompletionResult, InvalidParams
from fallbackd_client.__main__ import main as cli_main
from fake_daemon import COMPLETE_RESULT, raising


def row(key, **figures):
    out = {name: 0 for name in COST_ROW_FIELDS}
    out.update(key=key, **figures)
    return out


TOTALS = row("total", requests=10, attempts=13, input_tokens=1200, output_tokens=4000, spend_usd=0.0421,
             served_by_fallback=3, fallback_share=0.3, fallback_extra_usd=-0.0012, failed_attempts=3,
             failed_cost_usd=0.0005, shadow_calls=2, shadow_spend_usd=0.0031)
WEEK = dict(row("2026-11-16", requests=4, attempts=5, spend_usd=0.01), week_start="2026-11-16T00:00:00.000Z",
            week_start_ms=1794787200000)
COST_REPORT = {"since": "2026-11-17T12:00:00.000Z", "until": "2026-11-24T12:00:00.000Z",
               "since_ms": 1795348800000, "until_ms": 1795953600000, "days": 7, "totals": TOTALS,
               "by_task": [dict(TOTALS, key="complex_reasoning")], "by_model": [dict(TOTALS, key="gpt-4o")],
               "weekly": [WEEK]}
PAIR = {"primary_model": "gpt-4o", "shadow_model": "claude-3-5-sonnet", "calls": 40, "primary_success_rate": 0.95,
        "shadow_success_rate": 0.9, "latency_ratio": 1.25, "cost_ratio": 0.8, "mean_similarity": 0.62}
SHADOW_REPORT = {"since": COST_REPORT["since"], "until": COST_REPORT["until"], "days": 7, "pairs": [PAIR]}
BUDGET = {"task": "summarize", "budget_usd": 5.0, "spent_usd": 5.0125, "resets_at": "2026-11-25T00:00:00.000Z",
          "resets_at_ms": 1795996800000}


@pytest.fixture
def reports(server):
    server.methods.update({"cost.report": lambda params: COST_REPORT, "shadow.report": lambda params: SHADOW_REPORT})
    return server


def test_cost_report_sends_only_given_params(client, reports):
    assert client.cost_report() == COST_REPORT
    client.cost_report(days=30, weeks=12)
    client.cost_report(since=1795348800000, until=1795953600000)
    client.cost_report(since=datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc), weeks=4)
    sent = reports.requests()
    assert sent[0]["method"] == "cost.report" and "params" not in sent[0]
    assert [r["params"] for r in sent[1:]] == [
        {"days": 30, "weeks": 12},
        {"since": 1795348800000, "until": 1795953600000},
        {"since": 1793491200000, "weeks": 4},
    ]


def test_cost_report_rows_have_every_documented_field(client, reports):
    report = client.cost_report(days=7)
    for entry in [report["totals"], *report["by_task"], *report["by_model"], *report["weekly"]]:
        assert set(COST_ROW_FIELDS) <= set(entry)
    assert report["weekly"][0]["week_start_ms"] == 1794787200000


@pytest.mark.parametrize("kwargs", [{"days": 7, "since": 1}, {"days": 7, "until": 2}, {"until": 2}])
def test_period_mistakes_are_refused_before_sending(client, reports, kwargs):
    with pytest.raises(ValueError):
        client.cost_report(**kwargs)
    with pytest.raises(ValueError):
        client.shadow_report(**kwargs)
    assert reports.requests() == []


def test_since_must_be_millis_or_datetime(client, reports):
    with pytest.raises(TypeError):
        client.cost_report(since="yesterday")
    with pytest.raises(TypeError):
        client.cost_report(since=True)


def test_daemon_range_errors_raise_invalid_params(client, server):
    server.methods["cost.report"] = raising(-32602, "invalid params", {"field": "weeks",
                                                                       "reason": "must be an integer from 1 to 520"})
    with pytest.raises(InvalidParams) as info:
        client.cost_report(weeks=0)
    assert info.value.field == "weeks"


def test_shadow_report(client, reports):
    assert client.shadow_report() == SHADOW_REPORT
    assert client.shadow_report(days=30)["pairs"][0]["mean_similarity"] == 0.62
    client.shadow_report(since=5, until=10)
    sent = reports.requests()
    assert sent[0]["method"] == "shadow.report" and "params" not in sent[0]
    assert [r["params"] for r in sent[1:]] == [{"days": 30}, {"since": 5, "until": 10}]
    assert set(SHADOW_PAIR_FIELDS) == set(PAIR)


def test_complete_sends_shadow_only_when_given(client, server):
    client.complete("hi")
    client.complete("hi", shadow=True)
    client.complete("hi", shadow=False)
    sent = [r["params"] for r in server.requests()]
    assert "shadow" not in sent[0]
    assert (sent[1]["shadow"], sent[2]["shadow"]) == (True, False)


def test_completion_result_costs(client, server):
    server.methods["complete"] = lambda params: dict(COMPLETE_RESULT, primary_cost_usd=0.00066,
                                                     fallback_cost_delta_usd=-0.000024)
    result = client.complete("hi")
    assert result.cost_usd == pytest.approx(0.000636)
    assert result.primary_cost_usd == pytest.approx(0.00066)
    assert result.fallback_cost_delta_usd == pytest.approx(-0.000024)
    older = CompletionResult.from_dict(COMPLETE_RESULT)  # a daemon without the cost ledger
    assert (older.primary_cost_usd, older.fallback_cost_delta_usd) == (None, None)
    assert CompletionResult.from_dict(dict(COMPLETE_RESULT, primary_cost_usd=0)).primary_cost_usd == 0.0


def test_budget_exceeded_carries_budget_and_reset(client, server):
    server.methods["complete"] = raising(-32004, "daily budget of $5.0 for task summarize is spent", BUDGET)
    with pytest.raises(BudgetExceeded) as info:
        client.complete("hi", task="summarize")
    err = info.value
    assert (err.task, err.budget_usd, err.spent_usd) == ("summarize", 5.0, 5.0125)
    assert (err.resets_at, err.resets_at_ms) == ("2026-11-25T00:00:00.000Z", 1795996800000)
    bare = BudgetExceeded(-32004, "budget", None)
    assert (bare.task, bare.budget_usd, bare.spent_usd, bare.resets_at, bare.resets_at_ms) == (None,) * 5


def test_cli_cost_and_shadow(reports, capsys):
    path = reports.path
    assert cli_main(["--socket", path, "cost", "--days", "30", "--weeks", "4"]) == 0
    assert json.loads(capsys.readouterr().out) == COST_REPORT
    assert cli_main(["--socket", path, "shadow"]) == 0
    assert json.loads(capsys.readouterr().out) == SHADOW_REPORT
    assert cli_main(["--socket", path, "cost", "--days", "3", "--since", "5"]) == 2
    assert "not both" in capsys.readouterr().err
    assert cli_main(["--socket", path, "complete", "hi", "--no-shadow"]) == 0
    capsys.readouterr()
    sent = reports.requests()
    assert (sent[0]["params"], "params" not in sent[1]) == ({"days": 30, "weeks": 4}, True)
    assert sent[-1]["params"]["shadow"] is False
