"""Full-fidelity chat (docs/protocol.md, `complete`: Messages, Translation, capabilities, result).

One OpenAI Chat Completions request reaches each provider kind in its own wire format: tool calls and tool
results, images, structured output, the output cap; the answers come back in OpenAI's shape. The exact upstream
bodies are read from the fake providers' request log. Errors, reasoning models, usage details and pass-through
fields are in test_chat_fidelity_errors.py.
"""

import copy
import json

import pytest

import fbd_harness as H
from chat_lib import OWN_FIELDS, mid, only_req, reqs

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}},
]

TOOL_MSGS = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "developer", "content": "Use metric units."},
    {"role": "user", "content": "Weather in Paris and the time in Rome?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"Europe/Rome\"}"}},
    ]},
    {"role": "tool", "tool_call_id": "call_a", "content": "{\"temp_c\":21,\"sky\":\"clear\"}"},
    {"role": "tool", "tool_call_id": "call_b", "content": "14:05"},
]

CHAIN = ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"]
RETRY_ON = H.resilience(retry={"max_retries": 1, "base_delay_ms": 10, "max_delay_ms": 50})


def tool_request():
    return {"messages": copy.deepcopy(TOOL_MSGS), "tools": copy.deepcopy(TOOLS), "tool_choice": "required",
            "parallel_tool_calls": False, "max_tokens": 300, "models": list(CHAIN), "timeout_ms": 20000,
            "metadata": {"ticket": "fidelity-1"}}


def blocks_text(content):
    """Anthropic content (a string or blocks) -> [(type, text)] for text blocks."""
    if isinstance(content, str):
        return [("text", content)]
    return [(b["type"], b.get("text")) for b in content]


def tool_result_text(block):
    c = block["content"]
    if isinstance(c, list):
        return "".join(b["text"] for b in c if b.get("type") == "text")
    return c


def test_tool_conversation_reaches_each_provider_in_its_shape(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=RETRY_ON)
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("claude-3-5-sonnet"), [], then={"kind": "tool_call", "name": "get_weather",
                                                    "arguments": {"city": "Berlin", "days": 2}})
    params = tool_request()
    res = H.bounded(lambda: H.complete_ok(d, **{"timeout": 30, **params}))

    # the answer in OpenAI's shape
    assert res["model_used"] == "claude-3-5-sonnet"
    assert res["content"] is None
    assert res["finish_reason"] == "tool_calls"
    assert res["provider_finish_reason"] == "tool_use"
    assert len(res["tool_calls"]) == 1
    call = res["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("toolu_fake")
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"city": "Berlin", "days": 2}
    # OpenAI failed twice (a retry), then Anthropic answered
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [
        ("gpt-4o", "server_error"), ("gpt-4o", "server_error"), ("claude-3-5-sonnet", None)]
    assert res["fallback_count"] == 1

    # OpenAI: the caller's body member for member; only model and the output cap rewritten
    expected = {k: v for k, v in params.items() if k not in OWN_FIELDS and k != "max_tokens"}
    expected.update(model="gpt-4o", max_completion_tokens=300)
    oa = reqs(fake, "gpt-4o")
    assert len(oa) == 2
    for r in oa:
        assert r["body"] == expected, f"OpenAI body differs from the caller's:\n{r['body']}\n!=\n{expected}"

    # Anthropic: system blocks, tool_use / tool_result blocks, input_schema, tool_choice mapped
    body = only_req(fake, "claude-3-5-sonnet")["body"]
    assert body["model"] == mid("claude-3-5-sonnet")
    assert body["max_tokens"] == 300
    assert [(b["type"], b["text"]) for b in body["system"]] == [("text", "You are a weather bot."),
                                                                ("text", "Use metric units.")]
    assert all("cache_control" not in b for b in body["system"])
    msgs = body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"], msgs
    assert blocks_text(msgs[0]["content"]) == [("text", "Weather in Paris and the time in Rome?")]
    assert [{k: b[k] for k in ("type", "id", "name", "input")} for b in msgs[1]["content"]] == [
        {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_b", "name": "get_time", "input": {"tz": "Europe/Rome"}},
    ]
    results = msgs[2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result"], "parallel results share one user turn"
    assert [b["tool_use_id"] for b in results] == ["call_a", "call_b"]
    assert [tool_result_text(b) for b in results] == ["{\"temp_c\":21,\"sky\":\"clear\"}", "14:05"]
    assert [(t["name"], t["input_schema"], t.get("description")) for t in body["tools"]] == [
        ("get_weather", TOOLS[0]["function"]["parameters"], "Weather for a city"),
        ("get_time", TOOLS[1]["function"]["parameters"], None)]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    for k in ("tool_calls", "parallel_tool_calls", "max_completion_tokens", "metadata", "models", "task"):
        assert k not in body, f"{k} leaked into the Anthropic body: {body}"

    # again with Anthropic failing too: Gemini answers
    fake.reset()
    fake.script(mid("gpt-4o"), [], then="server_error")
    fake.script(mid("claude-3-5-sonnet"), [], then="server_error")
    fake.script(mid("gemini-pro"), [], then={"kind": "tool_call", "name": "get_time", "arguments": {"tz": "UTC"}})
    res = H.bounded(lambda: H.complete_ok(d, **{"timeout": 30, **tool_request()}))
    assert res["model_used"] == "gemini-pro"
    assert res["content"] is None and res["finish_reason"] == "tool_calls"
    assert res["tool_calls"] == [{"id": "call_0", "type": "function",
                                  "function": {"name": "get_time", "arguments": "{\"tz\":\"UTC\"}"}}]
    assert "parallel_tool_calls" in res["ignored_fields"]
    assert [a["model"] for a in res["attempts"]] == ["gpt-4o", "gpt-4o", "claude-3-5-sonnet", "claude-3-5-sonnet",
                                                     "gemini-pro"]
    g = only_req(fake, "gemini-pro")
    assert g["path"].endswith(":generateContent")
    body = g["body"]
    assert [p["text"] for p in body["systemInstruction"]["parts"]] == ["You are a weather bot.", "Use metric units."]
    contents = body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"], contents
    assert contents[0]["parts"] == [{"text": "Weather in Paris and the time in Rome?"}]
    assert [{k: p["functionCall"][k] for k in ("name", "args")} for p in contents[1]["parts"]] == [
        {"name": "get_weather", "args": {"city": "Paris"}}, {"name": "get_time", "args": {"tz": "Europe/Rome"}}]
    fr = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [(f["name"], f["response"]) for f in fr] == [
        ("get_weather", {"temp_c": 21, "sky": "clear"}), ("get_time", {"content": "14:05"})]
    assert len(body["tools"]) == 1
    decls = body["tools"][0]["functionDeclarations"]
    assert [(f["name"], f["parametersJsonSchema"]) for f in decls] == [
        ("get_weather", TOOLS[0]["function"]["parameters"]), ("get_time", TOOLS[1]["function"]["parameters"])]
    assert decls[0]["description"] == "Weather for a city"
    assert body["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"
    assert body["generationConfig"]["maxOutputTokens"] == 300


@pytest.mark.parametrize("choice,anthropic,gemini", [
    ("auto", {"type": "auto"}, {"mode": "AUTO"}),
    ("none", {"type": "none"}, {"mode": "NONE"}),
    ("required", {"type": "any"}, {"mode": "ANY"}),
    ({"type": "function", "function": {"name": "get_time"}}, {"type": "tool", "name": "get_time"},
     {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
])
def test_tool_choice_mapping(daemon, fake, choice, anthropic, gemini):
    msgs = [{"role": "user", "content": "What time is it?"}]
    for name in ("claude-3-5-sonnet", "gemini-pro"):
        H.bounded(lambda: H.complete_ok(daemon, msgs, tools=TOOLS, tool_choice=choice, models=[name]))
    assert only_req(fake, "claude-3-5-sonnet")["body"]["tool_choice"] == anthropic
    assert only_req(fake, "gemini-pro")["body"]["toolConfig"]["functionCallingConfig"] == gemini


IMAGE_MSGS = [{"role": "user", "content": [
    {"type": "text", "text": "What is in these pictures?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}},
    {"type": "image_url", "image_url": {"url": "https://example.com/pics/cat.jpg", "detail": "low"}},
]}]


def test_images_reach_anthropic_and_gemini(daemon, fake):
    for name in ("gpt-4o", "claude-3-5-sonnet", "gemini-pro"):
        res = H.bounded(lambda: H.complete_ok(daemon, IMAGE_MSGS, models=[name]))
        assert res["model_used"] == name
    assert only_req(fake, "gpt-4o")["body"]["messages"] == IMAGE_MSGS  # OpenAI: as sent
    content = only_req(fake, "claude-3-5-sonnet")["body"]["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is in these pictures?"}
    assert [b["type"] for b in content] == ["text", "image", "image"]
    assert content[1]["source"] == {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUg=="}
    assert content[2]["source"] == {"type": "url", "url": "https://example.com/pics/cat.jpg"}
    parts = only_req(fake, "gemini-pro")["body"]["contents"][0]["parts"]
    assert parts[0] == {"text": "What is in these pictures?"}
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUg=="}}
    assert parts[2] == {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/pics/cat.jpg"}}


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}},
          "required": ["city", "temp_c"]}
RF = {"type": "json_schema", "json_schema": {"name": "weather_report", "schema": SCHEMA, "strict": True}}
VALUE = {"city": "Oslo", "temp_c": -3.5}


def test_json_schema_on_each_provider(daemon, fake):
    msgs = [{"role": "user", "content": "Report the weather in Oslo as JSON."}]
    fake.script("*", [], then={"kind": "json", "value": VALUE})
    for name in ("gpt-4o", "claude-3-5-sonnet", "gemini-pro"):
        res = H.bounded(lambda: H.complete_ok(daemon, msgs, response_format=RF, models=[name]))
        assert res["model_used"] == name
        assert json.loads(res["content"]) == VALUE, f"{name}: {res['content']!r}"
        assert res["finish_reason"] == "stop", name
        assert res["tool_calls"] == [], name
    assert only_req(fake, "gpt-4o")["body"]["response_format"] == RF
    body = only_req(fake, "claude-3-5-sonnet")["body"]
    assert [(t["name"], t["input_schema"]) for t in body["tools"]] == [("weather_report", SCHEMA)]
    assert body["tool_choice"] == {"type": "tool", "name": "weather_report"}
    assert "response_format" not in body
    gc = only_req(fake, "gemini-pro")["body"]["generationConfig"]
    assert gc["responseMimeType"] == "application/json"
    assert gc["responseJsonSchema"] == SCHEMA


def test_json_object_on_anthropic_uses_json_response_tool(daemon, fake):
    fake.script(mid("claude-3-5-sonnet"), [], then={"kind": "json", "value": {"answer": 42}})
    res = H.bounded(lambda: H.complete_ok(daemon, [{"role": "user", "content": "JSON please"}],
                                          response_format={"type": "json_object"}, models=["claude-3-5-sonnet"]))
    assert json.loads(res["content"]) == {"answer": 42}
    assert res["finish_reason"] == "stop"
    body = only_req(fake, "claude-3-5-sonnet")["body"]
    assert [t["name"] for t in body["tools"]] == ["json_response"]
    assert body["tool_choice"] == {"type": "tool", "name": "json_response"}


NO_VISION = lambda cfg: cfg["models"]["claude-3-5-sonnet"].update(capabilities=["tools", "json_schema"])  # noqa: E731


def test_model_without_vision_is_skipped(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=NO_VISION)
    models = {m["name"]: m for m in d.call("models")["models"]}
    assert models["claude-3-5-sonnet"]["capabilities"] == ["json_schema", "tools"]
    res = H.bounded(lambda: H.complete_ok(d, IMAGE_MSGS, models=["claude-3-5-sonnet", "gemini-pro"]))
    assert res["model_used"] == "gemini-pro"
    assert [a["model"] for a in res["attempts"]] == ["gemini-pro"]
    assert res["fallback_count"] == 1 and res["used_fallback"] is True
    skipped = H.route_entry(res["route"], "claude-3-5-sonnet")
    assert skipped["reason"] == "lacks_capability" and skipped["capability"] == "vision"
    assert H.route_entry(res["route"], "gemini-pro")["reason"] == "healthy"
    assert reqs(fake, "claude-3-5-sonnet") == []
    # a text-only request still goes to it
    res = H.bounded(lambda: H.complete_ok(d, [{"role": "user", "content": "hi"}], models=["claude-3-5-sonnet"]))
    assert res["model_used"] == "claude-3-5-sonnet"


def test_no_capable_model_is_invalid_params_and_nothing_is_sent(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=NO_VISION)
    reply = H.complete_reply(d, IMAGE_MSGS, models=["claude-3-5-sonnet", "local-llama"])
    err = H.rpc_error(reply, -32602)
    assert err["data"]["capability"] == "vision"
    assert err["data"]["field"].startswith("messages"), err
    reply = H.complete_reply(d, [{"role": "user", "content": "hi"}], seed=7, models=["claude-3-haiku"])
    err = H.rpc_error(reply, -32602)
    assert (err["data"]["field"], err["data"]["capability"]) == ("seed", "seed")
    reply = H.complete_reply(d, [{"role": "user", "content": "hi"}], frequency_penalty=0.5,
                             models=["claude-3-5-sonnet"])
    err = H.rpc_error(reply, -32602)
    assert (err["data"]["field"], err["data"]["capability"]) == ("frequency_penalty", "penalties")
    H.stop_settled(d)
    assert fake.requests() == [], "a request no model can take must not reach any provider"


def test_seed_skips_anthropic_only(daemon, fake):
    msgs = [{"role": "user", "content": "Pick a number"}]
    res = H.bounded(lambda: H.complete_ok(daemon, msgs, seed=1234, models=["claude-3-5-sonnet", "gpt-4o"]))
    assert res["model_used"] == "gpt-4o"
    e = H.route_entry(res["route"], "claude-3-5-sonnet")
    assert (e["reason"], e["capability"]) == ("lacks_capability", "seed")
    assert only_req(fake, "gpt-4o")["body"]["seed"] == 1234
    res = H.bounded(lambda: H.complete_ok(daemon, msgs, seed=1234, models=["claude-3-haiku", "gemini-pro"]))
    assert res["model_used"] == "gemini-pro"
    assert H.route_entry(res["route"], "claude-3-haiku")["capability"] == "seed"
    assert only_req(fake, "gemini-pro")["body"]["generationConfig"]["seed"] == 1234
    assert reqs(fake, "claude-3-5-sonnet") == [] and reqs(fake, "claude-3-haiku") == []
