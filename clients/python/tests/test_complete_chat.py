"""Tests for the full Chat Completions ``complete``: params on the wire, result decoding, -32006.

The fake (tests/fake_daemon.py, fixtures in tests/conftest.py) speaks the same
wire format as fallbackd. No real daemon is needed.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import COMPLETE_RESULT, raising  # noqa: E402
from fallbackd_client import (  # noqa: E402
    ERROR_TYPES,
    CompletionResult,
    FallbackError,
    InvalidParams,
    StreamInterrupted,
    ToolCall,
    complete_params,
)

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True}}

CONVERSATION = [
    {"role": "developer", "content": [{"type": "text", "text": "Answer briefly."}]},
    {"role": "user", "content": [
        {"type": "text", "text": "What is in this picture, and the weather in Paris?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
    ], "name": "ann"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 21}"},
]

TOOL_RESULT = dict(COMPLETE_RESULT, **{
    "content": None,
    "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":"}},
    ],
    "refusal": None,
    "finish_reason": "tool_calls",
    "provider_finish_reason": "tool_use",
    "usage": {"input_tokens": 1200, "output_tokens": 80, "cached_input_tokens": 1024, "cache_write_tokens": 16,
              "reasoning_tokens": 32},
    "ignored_fields": ["user", "logprobs"],
})

INTERRUPTED_DATA = {
    "request_id": "r-9", "task": "default", "chain": "default", "latency_ms": 4100,
    "attempts": [{"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "timeout",
                  "http_status": 200, "latency_ms": 4100, "cost_usd": 0.0001, "message": "idle for 4000 ms",
                  "skipped_events": 1, "committed": True}],
    "route": [{"model": "gpt-4o", "place": 1, "reason": "healthy"}],
    "model": "gpt-4o", "reason": "timeout", "message": "idle for 4000 ms",
    "delivered": {"content_chars": 42, "tool_calls": 1, "tool_call_open": True},
}


# -- request params -----------------------------------------------------------------


def test_new_fields_reach_the_wire_exactly(client, server):
    client.complete(CONVERSATION, task="vision", models=["gpt-4o"], max_tokens=10, temperature=0.3,
                    timeout_ms=9000, metadata={"trace": "t1"}, shadow=False,
                    tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}},
                    parallel_tool_calls=False,
                    response_format={"type": "json_schema", "json_schema": {"name": "w", "schema": {}, "strict": True}},
                    max_completion_tokens=200, top_p=0.9, stop=["END", "STOP"], seed=7, presence_penalty=0.5,
                    frequency_penalty=-0.5, logit_bias={"50256": -100}, user="u-42", reasoning_effort="low",
                    extra={"logprobs": True, "top_logprobs": 2, "service_tier": "flex"})
    params = server.requests()[0]["params"]
    assert params == {
        "messages": CONVERSATION,
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {}, "strict": True}},
        "max_completion_tokens": 200, "max_tokens": 10, "temperature": 0.3, "top_p": 0.9, "stop": ["END", "STOP"],
        "seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5, "logit_bias": {"50256": -100},
        "user": "u-42", "reasoning_effort": "low",
        "task": "vision", "models": ["gpt-4o"], "timeout_ms": 9000, "metadata": {"trace": "t1"}, "shadow": False,
        "logprobs": True, "top_logprobs": 2, "service_tier": "flex",
    }
    assert "stream" not in params and "on_interrupt" not in params


def test_nothing_is_sent_as_null_unless_given(client, server):
    client.complete("hi", tools=None, stop=None, seed=None, extra={"prediction": None})
    assert server.requests()[0]["params"] == {"messages": [{"role": "user", "content": "hi"}], "task": "default",
                                              "prediction": None}  # extra is sent as given, null included
    assert complete_params("hi", task=None) == {"messages": [{"role": "user", "content": "hi"}]}


def test_zero_and_false_values_are_sent(client, server):
    client.complete("hi", temperature=0, seed=0, parallel_tool_calls=False, presence_penalty=0.0, stop="")
    params = server.requests()[0]["params"]
    assert (params["temperature"], params["seed"], params["parallel_tool_calls"], params["presence_penalty"],
            params["stop"]) == (0, 0, False, 0.0, "")


def test_old_positional_calls_still_work(client, server):
    client.complete("hi", "code_generation", ["gpt-4o"], 50, 0.2, 1500, {"u": 1}, True)
    assert server.requests()[0]["params"] == {
        "messages": [{"role": "user", "content": "hi"}], "task": "code_generation", "models": ["gpt-4o"],
        "max_tokens": 50, "temperature": 0.2, "timeout_ms": 1500, "metadata": {"u": 1}, "shadow": True}


def test_sdk_style_message_objects_are_dumped(client, server):
    class SdkMessage:  # stands in for openai.types.chat.ChatCompletionMessage
        def model_dump(self, exclude_none=False):
            return {"role": "assistant", "content": "earlier answer"}

    client.complete([{"role": "user", "content": "q"}, SdkMessage(), {"role": "user", "content": "more"}])
    assert server.requests()[0]["params"]["messages"][1] == {"role": "assistant", "content": "earlier answer"}


@pytest.mark.parametrize("kwargs, error", [
    ({"messages": {"role": "user", "content": "hi"}}, TypeError),   # one dict, not a list
    ({"messages": ["hi"]}, TypeError),
    ({"messages": "hi", "extra": {"temperature": 1}}, ValueError),   # has a keyword of its own
    ({"messages": "hi", "extra": {"stream": True}}, ValueError),     # use stream()
    ({"messages": "hi", "extra": {"messages": []}}, ValueError),
    ({"messages": "hi", "extra": {"on_interrupt": "restart"}}, ValueError),
    ({"messages": "hi", "extra": {1: 2}}, TypeError),
])
def test_cheap_client_side_checks_send_nothing(client, server, kwargs, error):
    with pytest.raises(error):
        client.complete(**kwargs)
    assert server.requests() == []


def test_unknown_keyword_is_a_type_error(client, server):
    with pytest.raises(TypeError):
        client.complete("hi", max_token=5)  # a typo never reaches the wire
    assert server.requests() == []


# -- result -----------------------------------------------------------------------


def test_result_decodes_tool_calls_usage_and_ignored_fields(client, server):
    server.methods["complete"] = lambda params: TOOL_RESULT
    result = client.complete("weather in Paris?", tools=[WEATHER_TOOL])
    assert result.content is None and result.text == ""
    assert result.tool_calls == TOOL_RESULT["tool_calls"]
    assert (result.finish_reason, result.provider_finish_reason, result.refusal) == ("tool_calls", "tool_use", None)
    assert (result.input_tokens, result.output_tokens, result.cached_input_tokens, result.cache_write_tokens,
            result.reasoning_tokens) == (1200, 80, 1024, 16, 32)
    assert result.ignored_fields == ["user", "logprobs"]
    first, second = result.parsed_tool_calls()
    assert first == ToolCall(id="call_a", name="get_weather", arguments_json="{\"city\":\"Paris\"}")
    assert first.arguments == {"city": "Paris"}
    assert first.result_message({"temp_c": 21}) == {"role": "tool", "tool_call_id": "call_a",
                                                     "content": "{\"temp_c\": 21}"}
    with pytest.raises(ValueError, match="call_b"):
        second.arguments  # noqa: B018 - the model produced broken JSON: a clear error, on access only
    assert result.to_message() == {"role": "assistant", "content": None, "tool_calls": TOOL_RESULT["tool_calls"]}
    assert result.raw == TOOL_RESULT


def test_result_decodes_refusal():
    result = CompletionResult.from_dict(dict(COMPLETE_RESULT, content=None, refusal="I can't help with that.",
                                             finish_reason="content_filter", provider_finish_reason="refusal"))
    assert (result.content, result.refusal, result.finish_reason) == (None, "I can't help with that.",
                                                                      "content_filter")
    assert result.to_message() == {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    assert result.parsed_tool_calls() == [] and result.tool_calls == []


def test_result_from_an_older_daemon_has_neutral_defaults():
    result = CompletionResult.from_dict(COMPLETE_RESULT)
    assert result.content == "Paris." and result.text == "Paris."
    assert (result.tool_calls, result.refusal, result.finish_reason, result.ignored_fields) == ([], None, None, [])
    assert result.cached_input_tokens is None and result.reasoning_tokens is None


# -- errors -----------------------------------------------------------------------


def test_stream_interrupted_maps_to_a_typed_error(client, server):
    server.methods["fail"] = raising(-32006, "stream interrupted", INTERRUPTED_DATA)
    with pytest.raises(StreamInterrupted) as info:
        client.call("fail")
    err = info.value
    assert isinstance(err, FallbackError) and err.code == -32006
    assert err.message == "stream interrupted" and err.detail == "idle for 4000 ms"
    assert (err.model, err.reason, err.request_id, err.task, err.chain, err.latency_ms) == \
        ("gpt-4o", "timeout", "r-9", "default", "default", 4100)
    assert err.delivered == {"content_chars": 42, "tool_calls": 1, "tool_call_open": True}
    assert (err.content_chars, err.delivered_tool_calls, err.tool_call_open) == (42, 1, True)
    assert err.attempts == INTERRUPTED_DATA["attempts"] and err.route == INTERRUPTED_DATA["route"]
    assert err.partial_content is None  # only a client stream knows what it received
    assert client.ping() == "pong"


def test_stream_interrupted_tolerates_missing_data(client, server):
    server.methods["fail"] = raising(-32006, "stream interrupted")
    with pytest.raises(StreamInterrupted) as info:
        client.call("fail")
    assert (info.value.model, info.value.delivered, info.value.content_chars, info.value.attempts) == \
        (None, {}, None, [])


def test_invalid_params_names_the_missing_capability(client, server):
    server.methods["complete"] = raising(-32602, "invalid params: no model of chain default can take tools",
                                         {"field": "tools", "reason": "no model can", "capability": "tools"})
    with pytest.raises(InvalidParams) as info:
        client.complete("hi", tools=[WEATHER_TOOL])
    assert (info.value.field, info.value.capability, info.value.estimated_input_tokens) == ("tools", "tools", None)
    server.methods["complete"] = raising(-32602, "too long", {"field": "messages", "estimated_input_tokens": 250000})
    with pytest.raises(InvalidParams) as info:
        client.complete("long")
    assert info.value.estimated_input_tokens == 250000


def test_error_types_include_the_new_ones():
    assert {"quota", "misconfigured", "truncated"} <= set(ERROR_TYPES)
