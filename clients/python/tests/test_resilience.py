"""Tests for the resilience methods (health, breakers, route, report), ``CompletionResult.route``
and -32003, against the in-process fake daemon (see conftest.py and fake_daemon.py)."""

import json

import pytest

from fallbackd_client import (
    AllBreakersOpen,
    AllModelsFailed,
    CompletionResult,
    InvalidParams,
    format_route,
)
from fallbackd_client.__main__ import main as cli_main
from fake_daemon import COMPLETE_RESULT, FAILED_DATA, raising

UNTIL = "2026-11-24T23:59:01.123Z"
UNTIL_MS = 1795564741123

ROUTE = [
    {"model": "claude-3-5-sonnet", "place": 1, "reason": "healthy"},
    {"model": "gpt-4o-mini", "place": 2, "reason": "degraded"},
    {"model": "gpt-4o", "place": 3, "reason": "open", "until": UNTIL, "until_ms": UNTIL_MS},
]

HEALTH = {"window_minutes": 5, "models": [
    {"model": "gpt-4o", "provider": "openai", "calls": 20, "successes": 15, "success_rate": 0.75,
     "avg_latency_ms": 412.5, "p50_latency_ms": 380, "p95_latency_ms": 900, "p99_latency_ms": 1210,
     "degraded": True, "breaker": "open", "breaker_until": UNTIL},
]}

BREAKER = {"model": "gpt-4o", "state": "open", "until": UNTIL, "until_ms": UNTIL_MS, "consecutive_failures": 0,
           "failure_rate": None, "slow_rate": None, "calls_in_window": 0, "trips": 1, "level": 1,
           "misconfigured": False, "last_trip_reason": "3 consecutive failures", "probes_in_flight": 0}

BREAKERS_OPEN = {"request_id": "r-5", "task": "default", "chain": "default", "latency_ms": 0, "attempts": [],
                 "route": [{"model": "gpt-4o", "place": 1, "reason": "open", "until": UNTIL, "until_ms": UNTIL_MS}],
                 "retry_after_ms": 41250}


@pytest.fixture
def resilient(server):
    """The fake daemon answering the resilience methods; each handler echoes what it needs to."""
    server.methods.update({
        "health": lambda params: dict(HEALTH, window_minutes=(params or {}).get("window_minutes", 15)),
        "breakers": lambda params: {"breakers": [BREAKER]},
        "breaker.reset": lambda params: dict(BREAKER, model=params["model"], state="closed", until=None,
                                             until_ms=None, level=0),
        "breaker.isolate": lambda params: dict(BREAKER, model=params["model"], state="isolated", until=None,
                                               until_ms=None, last_trip_reason="isolated by operator"),
        "route": lambda params: {"task": params["task"], "chain": "default", "route": ROUTE},
        "report": lambda params: {"model": params["model"], "counted": True, "breaker": "closed",
                                  "cost_usd": 0.0015, "request_id": "r-9"},
        "fleet": lambda params: {"enabled": False, "all": (params or {}).get("all", False)},
    })
    return server


def test_fleet_sends_all_only_when_asked(client, resilient):
    assert client.fleet() == {"enabled": False, "all": False}
    assert client.fleet(all=True)["all"] is True
    first, second = resilient.requests()
    assert first["method"] == "fleet" and "params" not in first
    assert second["params"] == {"all": True}


def test_health_sends_window_only_when_given(client, resilient):
    assert client.health(5) == HEALTH
    assert client.health()["window_minutes"] == 15
    first, second = resilient.requests()
    assert (first["method"], first["params"]) == ("health", {"window_minutes": 5})
    assert "params" not in second


def test_breakers_and_breaker_operations(client, resilient):
    assert client.breakers() == {"breakers": [BREAKER]}
    reset = client.breaker_reset("gpt-4o")
    assert (reset["state"], reset["level"], reset["until"]) == ("closed", 0, None)
    isolated = client.breaker_isolate("claude-3-haiku")
    assert (isolated["model"], isolated["state"]) == ("claude-3-haiku", "isolated")
    sent = resilient.requests()
    assert "params" not in sent[0]
    assert (sent[1]["method"], sent[1]["params"]) == ("breaker.reset", {"model": "gpt-4o"})
    assert (sent[2]["method"], sent[2]["params"]) == ("breaker.isolate", {"model": "claude-3-haiku"})


def test_breaker_for_unknown_model_raises_invalid_params(client, server):
    server.methods["breaker.reset"] = raising(-32602, "invalid params: model: unknown model 'nope'",
                                              {"field": "model", "reason": "unknown model 'nope'"})
    with pytest.raises(InvalidParams) as info:
        client.breaker_reset("nope")
    assert info.value.field == "model"


def test_route_defaults_to_the_default_task(client, resilient):
    assert client.route()["route"] == ROUTE
    assert client.route("summarise") == {"task": "summarise", "chain": "default", "route": ROUTE}
    assert [r["params"] for r in resilient.requests()] == [{"task": "default"}, {"task": "summarise"}]
    assert format_route(ROUTE) == "claude-3-5-sonnet:healthy -> gpt-4o-mini:degraded -> gpt-4o:open"


def test_report_sends_only_given_params(client, resilient):
    receipt = client.report("gpt-4o", "success", 80)
    assert receipt == {"model": "gpt-4o", "counted": True, "breaker": "closed", "cost_usd": 0.0015,
                       "request_id": "r-9"}
    client.report("gpt-4o", "error", 120, error_type="rate_limited",
                  usage={"input_tokens": 100, "output_tokens": 50}, http_status=429, task="chat",
                  metadata={"app": "web"})
    first, second = (r["params"] for r in resilient.requests())
    assert first == {"model": "gpt-4o", "outcome": "success", "latency_ms": 80}
    assert second == {"model": "gpt-4o", "outcome": "error", "latency_ms": 120, "error_type": "rate_limited",
                      "usage": {"input_tokens": 100, "output_tokens": 50}, "http_status": 429, "task": "chat",
                      "metadata": {"app": "web"}}


@pytest.mark.parametrize("outcome, error_type", [("error", None), ("success", "timeout"), ("ok", None)])
def test_report_rejects_mismatched_outcome_before_sending(client, resilient, outcome, error_type):
    with pytest.raises(ValueError):
        client.report("gpt-4o", outcome, 10, error_type=error_type)
    assert resilient.requests() == []


def test_completion_result_route(client, server):
    server.methods["complete"] = lambda params: dict(COMPLETE_RESULT, route=ROUTE)
    result = client.complete("hi")
    assert result.route == ROUTE
    assert result.route_summary() == "claude-3-5-sonnet:healthy -> gpt-4o-mini:degraded -> gpt-4o:open"
    assert CompletionResult.from_dict(COMPLETE_RESULT).route == []  # an older daemon sends none
    assert CompletionResult.from_dict(dict(COMPLETE_RESULT, route="bogus")).route == []


def test_all_breakers_open_carries_retry_after_and_route(client, server):
    server.methods["complete"] = raising(-32003, "every model of chain default has an open breaker; retry in 41250 ms",
                                         BREAKERS_OPEN)
    with pytest.raises(AllBreakersOpen) as info:
        client.complete("hi")
    err = info.value
    assert err.retry_after_ms == 41250
    assert err.route == BREAKERS_OPEN["route"]
    assert (err.request_id, err.chain, err.attempts) == ("r-5", "default", [])


@pytest.mark.parametrize("data", [None, {"retry_after_ms": None}, {"retry_after_ms": True}, "text"])
def test_retry_after_ms_is_none_without_a_number(client, server, data):
    server.methods["complete"] = raising(-32003, "all breakers open", data)
    with pytest.raises(AllBreakersOpen) as info:
        client.complete("hi")
    assert info.value.retry_after_ms is None
    assert info.value.route == []


def test_chain_failures_carry_the_route(client, server):
    server.methods["complete"] = raising(-32001, "all models failed", dict(FAILED_DATA, route=ROUTE))
    with pytest.raises(AllModelsFailed) as info:
        client.complete("hi")
    assert info.value.route == ROUTE


def test_cli_resilience_commands(resilient, capsys):
    path = resilient.path
    assert cli_main(["--socket", path, "health", "--window", "5"]) == 0
    assert json.loads(capsys.readouterr().out) == HEALTH
    assert cli_main(["--socket", path, "route", "chat"]) == 0
    assert json.loads(capsys.readouterr().out)["task"] == "chat"
    assert cli_main(["--socket", path, "breaker-isolate", "gpt-4o"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "isolated"
    assert cli_main(["--socket", path, "report", "gpt-4o", "--outcome", "error", "--latency-ms", "5"]) == 2
    assert "error_type" in capsys.readouterr().err
    assert cli_main(["--socket", path, "report", "gpt-4o", "--outcome", "error", "--error-type", "timeout",
                     "--latency-ms", "5"]) == 0
    assert resilient.requests()[-1]["params"] == {"model": "gpt-4o", "outcome": "error", "latency_ms": 5,
                                                  "error_type": "timeout"}
