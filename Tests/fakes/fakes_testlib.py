"""Shared helpers of the fake-provider tests: keys, messages, request builders, a tiny HTTP caller."""

import http.client
import json


OPENAI_KEY = "sk-fake-openai-SECRET123"
ANTHROPIC_KEY = "sk-ant-fake-SECRET456"
GEMINI_KEY = "AIzaFakeGeminiSECRET789"

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is the capital of France? Answer in one word please, thanks."},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Italy?"},
]


# ----------------------------------------------------------------------------- request builders (what a daemon sends)


def openai_body(model, messages=MESSAGES):
    return {"model": model, "messages": messages, "max_tokens": 100, "temperature": 0.3}


def anthropic_body(model, messages=MESSAGES):
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    body = {
        "model": model,
        "max_tokens": 100,
        "temperature": 0.3,
        "messages": [m for m in messages if m["role"] != "system"],
    }
    if system:
        body["system"] = system
    return body


def gemini_body(messages=MESSAGES):
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    body = {
        "contents": [
            {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
            for m in messages
            if m["role"] != "system"
        ],
        "generationConfig": {"maxOutputTokens": 100, "temperature": 0.3},
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    return body


# tools as each API declares them (tool_call answers call the first one unless told otherwise)
OA_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]
AN_TOOLS = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}},
            {"name": "get_time", "input_schema": {"type": "object"}}]
GE_TOOLS = [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT"}},
                                      {"name": "get_time"}]}]


def with_tools(flavor, model, **extra):
    if flavor in ("openai", "compat"):
        b = openai_body(model)
        b["tools"] = OA_TOOLS
    elif flavor == "anthropic":
        b = anthropic_body(model)
        b["tools"] = AN_TOOLS
    else:
        b = gemini_body()
        b["tools"] = GE_TOOLS
    b.update(extra)
    return b


def route_for(flavor, model):
    if flavor == "openai":
        return "/openai/v1/chat/completions", openai_body(model), {"Authorization": f"Bearer {OPENAI_KEY}"}
    if flavor == "compat":
        return "/compat/v1/chat/completions", openai_body(model), {"Authorization": "Bearer sk-compat"}
    if flavor == "anthropic":
        return (
            "/anthropic/v1/messages",
            anthropic_body(model),
            {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
        )
    if flavor == "gemini":
        return f"/gemini/v1beta/models/{model}:generateContent", gemini_body(), {"x-goog-api-key": GEMINI_KEY}
    raise AssertionError(flavor)


class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # lower-case names
        self.raw = raw

    def json(self):
        return json.loads(self.raw)


def call(fake, flavor, model, *, body=None, headers=None, conn=None, timeout=10):
    path, default_body, default_headers = route_for(flavor, model)
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(default_headers if headers is None else headers)
    data = json.dumps(default_body if body is None else body).encode()
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    try:
        conn.request("POST", path, data, hdrs)
        r = conn.getresponse()
        raw = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, raw)
    finally:
        if own:
            conn.close()


def assert_length_ok(resp):
    assert int(resp.headers["content-length"]) == len(resp.raw)
