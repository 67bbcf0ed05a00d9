"""Tests for fallbackd_client against an in-process fake JSON-RPC server: basics and the command line.

The fake (tests/fake_daemon.py, fixtures in tests/conftest.py) speaks the same
wire format as fallbackd and lets each test script replies, errors and
connection drops. No real daemon is needed.

Errors/framing are in test_client_errors.py, batches/connections/socket path in test_client_connection.py.
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import COMPLETE_RESULT, FAILED_DATA, raising  # noqa: E402
from fallbackd_client import CompletionResult, FallbackClient, format_attempts  # noqa: E402
from fallbackd_client.__main__ import main as cli_main  # noqa: E402


# -- basics ----------------------------------------------------------------


def test_ping_status_and_request_framing(client, server):
    assert client.ping() == "pong"
    assert client.status() == {"version": "0.1.0", "in_flight": 0, "models": ["gpt-4o"]}
    first, second = server.requests()
    assert first == {"jsonrpc": "2.0", "method": "ping", "id": 1}  # no "params" when None
    assert second["id"] == 2 and second["method"] == "status"
    assert server.connections == 1  # one connection is reused


def test_call_returns_raw_result_and_sends_params(client, server):
    params = {"a": [1, 2.5, None, True], "text": "line1\nline2 \u00e9 \"q\""}
    assert client.call("echo", params) == params
    assert client.call("echo", [1, "two"]) == [1, "two"]
    assert server.requests()[0]["params"] == params


def test_call_rejects_bad_params_type(client):
    with pytest.raises(TypeError):
        client.call("echo", "not-a-container")


def test_complete_decodes_result(client, server):
    result = client.complete([{"role": "user", "content": "capital of France?"}], task="complex_reasoning")
    assert isinstance(result, CompletionResult)
    assert result.content == "Paris."
    assert result.model_used == "claude-3-5-sonnet"
    assert result.model_id == "claude-3-5-sonnet-20241022"
    assert result.provider == "anthropic"
    assert (result.task, result.chain) == ("complex_reasoning", "complex_reasoning")
    assert result.fallback_count == 1 and result.used_fallback is True
    assert result.latency_ms == 812
    assert result.attempts == COMPLETE_RESULT["attempts"]
    assert result.usage == {"input_tokens": 12, "output_tokens": 40}
    assert result.cost_usd == pytest.approx(0.000636)
    assert result.request_id == "r-abc"
    assert result.raw == COMPLETE_RESULT
    assert result.attempts_summary() == "gpt-4o:rate_limited -> claude-3-5-sonnet:ok"
    with pytest.raises(Exception):
        result.content = "changed"  # frozen
    sent = server.requests()[0]
    assert sent["method"] == "complete"
    # Options left as None are not sent, so the daemon's defaults apply.
    assert sent["params"] == {"messages": [{"role": "user", "content": "capital of France?"}],
                              "task": "complex_reasoning"}


def test_complete_sends_all_options(client, server):
    client.complete([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                    task="code_generation", models=["gpt-4o", "claude-3-haiku"], max_tokens=50,
                    temperature=0.0, timeout_ms=1500, metadata={"user": "u1"})
    params = server.requests()[0]["params"]
    assert params == {
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "task": "code_generation",
        "models": ["gpt-4o", "claude-3-haiku"],
        "max_tokens": 50,
        "temperature": 0.0,
        "timeout_ms": 1500,
        "metadata": {"user": "u1"},
    }


def test_complete_accepts_plain_string(client, server):
    client.complete("hello there")
    params = server.requests()[0]["params"]
    assert params == {"messages": [{"role": "user", "content": "hello there"}], "task": "default"}


def test_complete_single_model_string_is_one_entry(client, server):
    client.complete("hi", models="gpt-4o")
    assert server.requests()[0]["params"]["models"] == ["gpt-4o"]


def test_complete_waits_at_least_for_its_own_deadline(server, monkeypatch):
    client = FallbackClient(server.path, timeout=10.0)
    waits = []
    monkeypatch.setattr(client, "call", lambda method, params, timeout=None: waits.append(timeout) or COMPLETE_RESULT)
    client.complete("hi", timeout_ms=90000)  # longer than the client timeout: wait 90 s + slack
    client.complete("hi", timeout_ms=1000)  # shorter: the client timeout still applies
    client.complete("hi")  # no deadline given: client default
    assert waits[0] > 90.0 and waits[1] == 10.0 and waits[2] is None


def test_completion_result_tolerates_missing_fields():
    result = CompletionResult.from_dict({"content": "x", "model_used": "m"})
    assert (result.content, result.model_used, result.fallback_count, result.attempts, result.usage) == \
        ("x", "m", 0, [], {})


def test_format_attempts_for_failures():
    assert format_attempts(FAILED_DATA["attempts"]) == "gpt-4o:server_error -> claude-3-haiku:timeout"
    assert format_attempts([]) == ""


# -- command line -------------------------------------------------------------------


def test_cli_ping_and_complete(server, capsys):
    assert cli_main(["--socket", server.path, "ping"]) == 0
    assert json.loads(capsys.readouterr().out) == "pong"
    assert cli_main(["--socket", server.path, "complete", "hi there", "--task", "code_generation"]) == 0
    assert json.loads(capsys.readouterr().out) == COMPLETE_RESULT
    params = server.requests()[-1]["params"]
    assert params == {"messages": [{"role": "user", "content": "hi there"}], "task": "code_generation"}


def test_cli_reports_errors(server, sockdir, capsys):
    server.methods["complete"] = raising(-32001, "all failed", FAILED_DATA)
    assert cli_main(["--socket", server.path, "complete", "x"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == -32001
    assert cli_main(["--socket", os.path.join(sockdir, "none.sock"), "status"]) == 2
    assert "none.sock" in capsys.readouterr().err
