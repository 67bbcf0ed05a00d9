"""Checks of the fake provider server: the answers added for tools, JSON, finish reasons and usage details, and the
error kinds insufficient_quota, unsupported_parameter, reasoning_model, reject_prefill (non-streaming).

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import normalize_step  # noqa: E402
from fakes_testlib import (  # noqa: E402
    MESSAGES,
    anthropic_body,
    assert_length_ok,
    call,
    gemini_body,
    openai_body,
    with_tools,
)

WORDS = sum(len(m["content"].split()) for m in MESSAGES)


# ----------------------------------------------------------------------------- tool_call


def test_openai_tool_call_exact_shape(fake):
    fake.script("gpt-4o", [{"kind": "tool_call", "arguments": {"city": "Paris", "days": 2}}])
    r = call(fake, "openai", "gpt-4o", body=with_tools("openai", "gpt-4o"))
    assert r.status == 200
    assert_length_ok(r)
    b = r.json()
    assert b["object"] == "chat.completion"
    (choice,) = b["choices"]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["role"] == "assistant" and msg["content"] is None and msg["refusal"] is None
    (tc,) = msg["tool_calls"]
    assert tc["id"].startswith("call_") and tc["type"] == "function"
    assert tc["function"]["name"] == "get_weather", "default: the request's first tool"
    assert isinstance(tc["function"]["arguments"], str)
    assert json.loads(tc["function"]["arguments"]) == {"city": "Paris", "days": 2}


def test_openai_tool_call_parallel_named_and_default_name(fake):
    fake.script("gpt-4o", [{"kind": "tool_call", "name": "get_time", "count": 3}, "tool_call"])
    b = call(fake, "compat", "gpt-4o", body=with_tools("compat", "gpt-4o")).json()
    calls = b["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_time"] * 3
    assert len({c["id"] for c in calls}) == 3
    assert all(json.loads(c["function"]["arguments"]) == {} for c in calls)
    # no tools in the request: "lookup"
    b = call(fake, "compat", "gpt-4o").json()
    assert b["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "lookup"


def test_tool_call_follows_a_forced_tool_choice(fake):
    fake.script("gpt-4o", ["tool_call"])
    body = with_tools("openai", "gpt-4o", tool_choice={"type": "function", "function": {"name": "get_time"}})
    b = call(fake, "openai", "gpt-4o", body=body).json()
    assert b["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_time"


def test_anthropic_tool_call_exact_shape(fake):
    m = "claude-sonnet-4-5"
    fake.script(m, [{"kind": "tool_call", "arguments": {"city": "Rome"}, "count": 2}])
    r = call(fake, "anthropic", m, body=with_tools("anthropic", m))
    assert r.status == 200
    b = r.json()
    assert b["stop_reason"] == "tool_use" and b["type"] == "message"
    assert [blk["type"] for blk in b["content"]] == ["tool_use", "tool_use"]
    for blk in b["content"]:
        assert set(blk) == {"type", "id", "name", "input"}
        assert blk["id"].startswith("toolu_") and blk["name"] == "get_weather" and blk["input"] == {"city": "Rome"}
    assert b["content"][0]["id"] != b["content"][1]["id"]


def test_gemini_tool_call_exact_shape(fake):
    fake.script("gemini-2.5-pro", [{"kind": "tool_call", "arguments": {"city": "Oslo"}}])
    b = call(fake, "gemini", "gemini-2.5-pro", body=with_tools("gemini", "x")).json()
    (cand,) = b["candidates"]
    assert cand["finishReason"] == "STOP"
    assert cand["content"] == {"parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}],
                               "role": "model"}


# ----------------------------------------------------------------------------- json


def test_json_kind_openai_and_gemini_text(fake):
    fake.script("gpt-4o", [{"kind": "json", "value": {"answer": 42, "tags": ["a"]}}, "json"])
    b = call(fake, "openai", "gpt-4o").json()
    assert json.loads(b["choices"][0]["message"]["content"]) == {"answer": 42, "tags": ["a"]}
    assert b["choices"][0]["finish_reason"] == "stop"
    assert json.loads(call(fake, "openai", "gpt-4o").json()["choices"][0]["message"]["content"]) == {"ok": True}
    fake.script("gemini-2.5-flash", ["json"])
    b = call(fake, "gemini", "gemini-2.5-flash").json()
    assert json.loads(b["candidates"][0]["content"]["parts"][0]["text"]) == {"ok": True}


def test_json_kind_anthropic_forced_tool_and_text(fake):
    m = "claude-sonnet-4-5"
    fake.script(m, [{"kind": "json", "value": {"x": 1}}, {"kind": "json", "value": {"x": 2}}])
    body = anthropic_body(m)
    body["tools"] = [{"name": "json_answer", "input_schema": {"type": "object"}}]
    body["tool_choice"] = {"type": "tool", "name": "json_answer"}
    b = call(fake, "anthropic", m, body=body).json()
    assert b["stop_reason"] == "tool_use"
    (blk,) = b["content"]
    assert blk["type"] == "tool_use" and blk["name"] == "json_answer" and blk["input"] == {"x": 1}
    b = call(fake, "anthropic", m).json()  # no forced tool: a text block
    assert b["stop_reason"] == "end_turn" and b["content"][0]["type"] == "text"
    assert json.loads(b["content"][0]["text"]) == {"x": 2}


# ----------------------------------------------------------------------------- refusal, length


def test_refusal_per_flavor(fake):
    fake.script("*", [], then="refusal")
    b = call(fake, "openai", "gpt-4o").json()
    (choice,) = b["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] is None and choice["message"]["refusal"].startswith("I'm sorry")
    b = call(fake, "anthropic", "claude-sonnet-4-5").json()
    assert b["stop_reason"] == "refusal" and b["content"] == []
    b = call(fake, "gemini", "gemini-2.5-pro").json()
    (cand,) = b["candidates"]
    assert cand["finishReason"] == "SAFETY" and "content" not in cand
    fake.script("gpt-4o", [{"kind": "refusal", "text": "No."}])
    assert call(fake, "openai", "gpt-4o").json()["choices"][0]["message"]["refusal"] == "No."


def test_length_empty_per_flavor(fake):
    fake.script("*", [], then="length")
    b = call(fake, "openai", "gpt-4o").json()
    (choice,) = b["choices"]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == ""
    assert b["usage"]["completion_tokens"] == 100  # the request's max_tokens
    assert b["usage"]["completion_tokens_details"]["reasoning_tokens"] == 100
    b = call(fake, "anthropic", "claude-sonnet-4-5").json()
    assert b["stop_reason"] == "max_tokens" and b["content"] == [] and b["usage"]["output_tokens"] == 100
    b = call(fake, "gemini", "gemini-2.5-pro").json()
    (cand,) = b["candidates"]
    assert cand["finishReason"] == "MAX_TOKENS" and cand["content"] == {"role": "model"}
    u = b["usageMetadata"]
    assert u["thoughtsTokenCount"] == 100 and "candidatesTokenCount" not in u
    assert u["totalTokenCount"] == u["promptTokenCount"] + 100


def test_length_with_content(fake):
    fake.script("*", [], then={"kind": "length", "content": "The capital is"})
    b = call(fake, "compat", "m").json()
    assert b["choices"][0]["message"]["content"] == "The capital is" and b["choices"][0]["finish_reason"] == "length"
    b = call(fake, "anthropic", "claude-sonnet-4-5").json()
    assert b["content"] == [{"type": "text", "text": "The capital is"}] and b["stop_reason"] == "max_tokens"
    b = call(fake, "gemini", "gemini-2.5-pro").json()
    assert b["candidates"][0]["content"]["parts"] == [{"text": "The capital is"}]
    assert b["candidates"][0]["finishReason"] == "MAX_TOKENS"


# ----------------------------------------------------------------------------- usage details


def test_usage_details_per_flavor(fake):
    step = {"kind": "ok", "cached_tokens": 10, "cache_write_tokens": 4, "reasoning_tokens": 7}
    fake.script("*", [], then=step)
    u = call(fake, "openai", "gpt-4o").json()["usage"]
    out = len("fake-openai gpt-4o says: And of Italy?".split())
    assert u["prompt_tokens"] == WORDS and u["prompt_tokens_details"]["cached_tokens"] == 10
    assert u["completion_tokens_details"]["reasoning_tokens"] == 7
    assert u["completion_tokens"] == out + 7 and u["total_tokens"] == WORDS + out + 7
    u = call(fake, "anthropic", "claude-sonnet-4-5").json()["usage"]
    assert u["cache_read_input_tokens"] == 10 and u["cache_creation_input_tokens"] == 4
    assert u["input_tokens"] == WORDS - 14, "Anthropic input_tokens exclude cache reads and writes"
    u = call(fake, "gemini", "gemini-2.5-pro").json()["usageMetadata"]
    assert u["promptTokenCount"] == WORDS and u["cachedContentTokenCount"] == 10 and u["thoughtsTokenCount"] == 7
    assert u["totalTokenCount"] == WORDS + u["candidatesTokenCount"] + 7


def test_compat_usage_details_only_when_set(fake):
    u = call(fake, "compat", "m").json()["usage"]
    assert "prompt_tokens_details" not in u and "completion_tokens_details" not in u
    fake.script("m", [{"kind": "ok", "cached_tokens": 3}])
    u = call(fake, "compat", "m").json()["usage"]
    assert u["prompt_tokens_details"]["cached_tokens"] == 3 and "completion_tokens_details" not in u


def test_explicit_input_tokens_are_the_wire_value(fake):
    fake.script("claude-sonnet-4-5", [{"kind": "ok", "input_tokens": 50, "cached_tokens": 20, "output_tokens": 3}])
    u = call(fake, "anthropic", "claude-sonnet-4-5").json()["usage"]
    assert (u["input_tokens"], u["cache_read_input_tokens"], u["output_tokens"]) == (50, 20, 3)


# ----------------------------------------------------------------------------- new error kinds


def test_insufficient_quota_per_flavor(fake):
    fake.script("*", [], then="insufficient_quota")
    r = call(fake, "openai", "gpt-4o")
    assert r.status == 429 and "retry-after" not in r.headers
    e = r.json()["error"]
    assert e["type"] == "insufficient_quota" and e["code"] == "insufficient_quota" and e["param"] is None
    assert e["message"].startswith("You exceeded your current quota, please check your plan and billing details.")
    assert call(fake, "compat", "m").status == 429
    r = call(fake, "anthropic", "claude-sonnet-4-5")
    assert r.status == 400 and r.json()["error"] == {
        "type": "invalid_request_error",
        "message": "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                   "upgrade or purchase credits."}
    r = call(fake, "gemini", "gemini-2.5-pro")
    assert r.status == 400 and r.json() == {"error": {"code": 400, "message": "User location is not supported for "
                                                      "the API use.", "status": "FAILED_PRECONDITION"}}


def test_unsupported_parameter_per_flavor(fake):
    fake.script("*", [], then="unsupported_parameter")
    for flavor in ("openai", "compat"):
        r = call(fake, flavor, "o3")
        assert r.status == 400 and r.json() == {"error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                       "'max_completion_tokens' instead.",
            "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}
    r = call(fake, "anthropic", "claude-sonnet-4-5")
    assert r.status == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = call(fake, "gemini", "gemini-2.5-pro")
    assert r.status == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_reasoning_model_rules(fake):
    fake.script("o3", [], then="reasoning_model")
    r = call(fake, "openai", "o3")  # openai_body has max_tokens and temperature 0.3
    assert r.status == 400 and r.json()["error"]["code"] == "unsupported_parameter"
    body = openai_body("o3")
    del body["max_tokens"]
    body["max_completion_tokens"] = 100
    r = call(fake, "openai", "o3", body=body)
    assert r.status == 400 and r.json() == {"error": {
        "message": "Unsupported value: 'temperature' does not support 0.3 with this model. Only the default (1) value "
                   "is supported.",
        "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}
    body["temperature"] = 1
    r = call(fake, "compat", "o3", body=body)
    assert r.status == 200
    u = r.json()["usage"]
    assert u["completion_tokens_details"]["reasoning_tokens"] == 64
    del body["temperature"]
    assert call(fake, "openai", "o3", body=body).status == 200
    # other flavors: ok
    assert call(fake, "anthropic", "o3").status == 200 and call(fake, "gemini", "o3").status == 200


def test_reject_prefill_per_flavor(fake):
    fake.script("*", [], then="reject_prefill")
    prefill = MESSAGES + [{"role": "assistant", "content": "Rome"}]
    for flavor, body in (("openai", openai_body("m", prefill)), ("compat", openai_body("m", prefill)),
                         ("anthropic", anthropic_body("m", prefill)), ("gemini", gemini_body(prefill))):
        r = call(fake, flavor, "m", body=body)
        assert r.status == 400, flavor
        assert call(fake, flavor, "m").status == 200, flavor  # ends with the user: ok
    r = call(fake, "anthropic", "m", body=anthropic_body("m", prefill))
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "does not support assistant message prefill" in r.json()["error"]["message"]
    r = call(fake, "gemini", "m", body=gemini_body(prefill))
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"


# ----------------------------------------------------------------------------- step validation


def test_new_step_params_validated():
    assert normalize_step({"kind": "ok", "sse": "crlf"})["sse"] == ["crlf"]
    assert normalize_step("stream_slow_first:250") == {"kind": "stream_slow_first", "ms": 250}
    assert normalize_step({"kind": "hold", "after": "tool_call"})["after"] == "tool_call"
    bad = [
        {"kind": "tool_call", "count": 0}, {"kind": "tool_call", "arguments": "x"}, {"kind": "tool_call", "name": ""},
        {"kind": "json", "value": [1]}, {"kind": "ok", "cached_tokens": -1}, {"kind": "ok", "sse": "bogus"},
        {"kind": "ok", "sse": ["crlf", "lf"]}, {"kind": "stream_malformed", "position": "last"},
        {"kind": "stream_cut", "after_chunks": True}, {"kind": "stream_cut", "answer": "server_error"},
        {"kind": "ok", "framing": "h2"}, {"kind": "stream_slow_first"}, {"kind": "hold", "after": "stream_stall"},
        {"kind": "ok", "chunks": 0}, {"kind": "refusal", "text": 3},
    ]
    for b in bad:
        with pytest.raises(ValueError):
            normalize_step(b)
