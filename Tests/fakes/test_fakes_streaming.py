"""Checks of the fake provider server: SSE streams of every answering kind in each provider's shape, the streaming
detection rules, framing options and recording.

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import expected_reply  # noqa: E402
from fakes_sselib import (  # noqa: E402
    anthropic_reassemble,
    gemini_reassemble,
    open_request,
    openai_reassemble,
    parse_sse,
    read_response,
    stream,
    stream_request,
    wait_for,
)
from fakes_testlib import MESSAGES, anthropic_body, call, gemini_body, openai_body, with_tools  # noqa: E402


def oa(model="gpt-4o", **extra):
    b = openai_body(model)
    b.update(extra)
    return b


def assert_sse_headers(r, flavor="openai"):
    assert r.status == 200
    ct = "text/event-stream" if flavor == "gemini" else "text/event-stream; charset=utf-8"
    assert r.headers["content-type"] == ct
    assert "content-length" not in r.headers
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.complete, "the chunked body must end with its terminating chunk"


# ----------------------------------------------------------------------------- OpenAI / compat


def test_openai_ok_stream_sequence_and_keep_alive(fake):
    path, body, hdrs = stream_request("openai", "gpt-4o")
    s = open_request(fake.port, path, body, hdrs)
    try:
        r = read_response(s, wait_eof=False)
        assert_sse_headers(r)
        evs = parse_sse(r.text)
        assert "\r" not in r.text and r.text.endswith("data: [DONE]\n\n")
        datas = [json.loads(e["data"]) for e in evs[:-1]]
        assert evs[-1]["data"] == "[DONE]" and all(e["event"] is None for e in evs)
        assert datas[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
        contents = [d["choices"][0]["delta"]["content"] for d in datas[1:-1]]
        assert 3 <= len(contents) <= 5 and all(contents)
        assert datas[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
        assert all(d["choices"][0]["finish_reason"] is None for d in datas[:-1])
        assert all("usage" not in d for d in datas), "usage only with stream_options.include_usage"
        assert len({d["id"] for d in datas}) == 1 and all(d["model"] == "gpt-4o" for d in datas)
        assert "".join(contents) == expected_reply("openai", "gpt-4o", MESSAGES)["content"]
        # a complete chunked stream keeps the connection: the next request goes on the same socket
        data = json.dumps(openai_body("gpt-4o")).encode()
        s.sendall(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        r2 = read_response(s, wait_eof=False)
        assert r2.status == 200 and r2.json()["object"] == "chat.completion"
    finally:
        s.close()
    rec = fake.requests()
    assert (rec[0]["stream"], rec[0]["stream_requested"], rec[0]["ended"]) == (True, True, "done")
    assert rec[0]["sent_chunks"] == len(contents)
    assert (rec[1]["stream"], rec[1]["stream_requested"]) == (False, False) and "ended" not in rec[1]


def test_openai_include_usage_chunk(fake):
    fake.script("gpt-4o", [{"kind": "ok", "cached_tokens": 5, "reasoning_tokens": 2}])
    r = stream(fake, "openai", "gpt-4o", body=oa(stream_options={"include_usage": True}))
    evs = parse_sse(r.text)
    assert evs[-1]["data"] == "[DONE]"
    usage_chunk = json.loads(evs[-2]["data"])
    assert usage_chunk["choices"] == []
    exp = expected_reply("openai", "gpt-4o", MESSAGES)
    u = usage_chunk["usage"]
    assert u["prompt_tokens"] == exp["input_tokens"] and u["completion_tokens"] == exp["output_tokens"] + 2
    assert u["prompt_tokens_details"]["cached_tokens"] == 5
    assert u["completion_tokens_details"]["reasoning_tokens"] == 2
    assert all(json.loads(e["data"])["usage"] is None for e in evs[:-2])
    assert json.loads(evs[-3]["data"])["choices"][0]["finish_reason"] == "stop"


def test_openai_obfuscation_field(fake):
    r = stream(fake, "openai", "gpt-4o")
    assert all("obfuscation" in json.loads(e["data"]) for e in parse_sse(r.text)[:-1])
    r = stream(fake, "openai", "gpt-4o", body=oa(stream_options={"include_obfuscation": False}))
    assert not any("obfuscation" in json.loads(e["data"]) for e in parse_sse(r.text)[:-1])
    r = stream(fake, "compat", "llama")
    assert not any("obfuscation" in json.loads(e["data"]) for e in parse_sse(r.text)[:-1])


def test_openai_tool_call_stream(fake):
    fake.script("gpt-4o", [{"kind": "tool_call", "count": 2, "arguments": {"city": "Paris", "unit": "C"}}])
    r = stream(fake, "openai", "gpt-4o", body=with_tools("openai", "gpt-4o"))
    evs = parse_sse(r.text)
    first = json.loads(evs[0]["data"])["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    assert first["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": ""}
    out = openai_reassemble(evs)
    assert out["done"] and out["finish"] == "tool_calls" and out["content"] == ""
    assert sorted(out["tool_calls"]) == [0, 1]
    for tc in out["tool_calls"].values():
        assert tc["id"].startswith("call_") and tc["name"] == "get_weather"
        assert json.loads(tc["arguments"]) == {"city": "Paris", "unit": "C"}
    frags = [tc for e in evs[:-1] for tc in json.loads(e["data"])["choices"][0]["delta"].get("tool_calls", [])]
    assert sum(1 for f in frags if f["index"] == 0 and f.get("function", {}).get("arguments")) >= 3


@pytest.mark.parametrize("step,check", [
    ({"kind": "refusal", "text": "I can't do that."},
     lambda o: o["refusal"] == "I can't do that." and o["content"] == "" and o["finish"] == "stop"),
    ({"kind": "length", "content": "Once upon a time"},
     lambda o: o["content"] == "Once upon a time" and o["finish"] == "length"),
    ({"kind": "json", "value": {"a": [1, 2]}}, lambda o: json.loads(o["content"]) == {"a": [1, 2]}),
    ("safety_stop", lambda o: o["content"] == "" and o["finish"] == "content_filter"),
    ("empty", lambda o: o["content"] == "" and o["finish"] == "stop"),
    ("reasoning_model", lambda o: o["usage"]["completion_tokens_details"]["reasoning_tokens"] == 64),
])
def test_openai_answer_kinds_stream(fake, step, check):
    fake.script("o3", [step])
    body = {"model": "o3", "messages": MESSAGES, "stream_options": {"include_usage": True}}
    r = stream(fake, "compat", "o3", body=body)
    assert_sse_headers(r)
    out = openai_reassemble(parse_sse(r.text))
    assert out["done"] and out["roles"] == ["assistant"] and check(out), out


# ----------------------------------------------------------------------------- Anthropic


def test_anthropic_ok_stream_sequence(fake):
    m = "claude-sonnet-4-5"
    fake.script(m, [{"kind": "ok", "cached_tokens": 3, "cache_write_tokens": 2}])
    r = stream(fake, "anthropic", m)
    assert_sse_headers(r, "anthropic")
    assert r.headers["request-id"].startswith("req_")
    evs = parse_sse(r.text)
    names = [e["event"] for e in evs]
    n = names.count("content_block_delta")
    assert 3 <= n <= 5
    assert names == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * n + [
        "content_block_stop", "message_delta", "message_stop"]
    out = anthropic_reassemble(evs)
    exp = expected_reply("anthropic", m, MESSAGES)
    msg = out["message"]
    assert msg["id"].startswith("msg_") and msg["role"] == "assistant" and msg["content"] == [] and msg["model"] == m
    assert msg["stop_reason"] is None
    assert out["blocks"] == [{"type": "text", "text": exp["content"]}]
    assert out["stop_reason"] == "end_turn"
    assert msg["usage"]["input_tokens"] == exp["input_tokens"] - 5
    assert msg["usage"]["cache_read_input_tokens"] == 3 and msg["usage"]["cache_creation_input_tokens"] == 2
    assert out["usage"]["output_tokens"] == exp["output_tokens"]
    assert fake.requests()[0]["ended"] == "done"


def test_anthropic_tool_use_stream(fake):
    m = "claude-sonnet-4-5"
    fake.script(m, [{"kind": "tool_call", "count": 2, "arguments": {"q": "weather in Paris"}}])
    out = anthropic_reassemble(parse_sse(stream(fake, "anthropic", m, body=with_tools("anthropic", m)).text))
    assert out["stop_reason"] == "tool_use"
    assert [(b["type"], b["name"], b["input"]) for b in out["blocks"]] == [
        ("tool_use", "get_weather", {"q": "weather in Paris"})] * 2
    assert all(b["id"].startswith("toolu_") for b in out["blocks"])
    assert out["names"].count("content_block_stop") == 2


def test_anthropic_json_forced_tool_stream(fake):
    m = "claude-sonnet-4-5"
    fake.script(m, [{"kind": "json", "value": {"n": 1}}])
    body = anthropic_body(m)
    body.update(tools=[{"name": "emit", "input_schema": {"type": "object"}}], tool_choice={"type": "tool", "name": "emit"})
    out = anthropic_reassemble(parse_sse(stream(fake, "anthropic", m, body=body).text))
    assert out["stop_reason"] == "tool_use" and out["blocks"][0]["input"] == {"n": 1}


@pytest.mark.parametrize("kind,stop", [("refusal", "refusal"), ("safety_stop", "refusal"), ("empty", "end_turn"),
                                       ("length", "max_tokens")])
def test_anthropic_stream_without_content(fake, kind, stop):
    m = "claude-sonnet-4-5"
    fake.script(m, [kind])
    out = anthropic_reassemble(parse_sse(stream(fake, "anthropic", m).text))
    assert out["names"] == ["message_start", "ping", "message_delta", "message_stop"]
    assert out["stop_reason"] == stop and out["blocks"] == []


# ----------------------------------------------------------------------------- Gemini


def test_gemini_sse_stream(fake):
    r = stream(fake, "gemini", "gemini-2.5-pro")
    assert_sse_headers(r, "gemini")
    assert "data: [DONE]" not in r.text
    assert r.text.endswith("}\r\n\r\n") and "\n\n" not in r.text.replace("\r\n\r\n", ""), "real Gemini: CRLF"
    evs = parse_sse(r.text)
    assert 3 <= len(evs) <= 5
    chunks = [json.loads(e["data"]) for e in evs]
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    out = gemini_reassemble(evs)
    exp = expected_reply("gemini", "gemini-2.5-pro", MESSAGES)
    assert out["text"] == exp["content"]
    assert out["usage"]["promptTokenCount"] == exp["input_tokens"]
    assert out["usage"]["candidatesTokenCount"] == exp["output_tokens"]
    assert fake.requests()[0]["route"].endswith(":streamGenerateContent")
    assert fake.requests()[0]["query"] == {"alt": ["sse"]} and fake.requests()[0]["ended"] == "done"


@pytest.mark.parametrize("step,check", [
    ({"kind": "tool_call", "arguments": {"x": 1}},
     lambda o: o["chunks"] == 1 and o["calls"] == [{"name": "get_weather", "args": {"x": 1}}] and o["finish"] == "STOP"),
    ("length", lambda o: o["chunks"] == 1 and o["finish"] == "MAX_TOKENS" and o["usage"]["thoughtsTokenCount"] == 100),
    ("refusal", lambda o: o["chunks"] == 1 and o["finish"] == "SAFETY" and o["text"] == ""),
    ("json", lambda o: json.loads(o["text"]) == {"ok": True} and o["finish"] == "STOP"),
])
def test_gemini_answer_kinds_stream(fake, step, check):
    fake.script("gemini-2.5-pro", [step])
    body = gemini_body()
    body["tools"] = [{"functionDeclarations": [{"name": "get_weather"}]}]
    out = gemini_reassemble(parse_sse(stream(fake, "gemini", "gemini-2.5-pro", body=body).text))
    assert check(out), out


def test_gemini_content_filter_streams_prompt_feedback(fake):
    fake.script("gemini-2.5-pro", ["content_filter"])
    (ev,) = parse_sse(stream(fake, "gemini", "gemini-2.5-pro").text)
    d = json.loads(ev["data"])
    assert d["promptFeedback"]["blockReason"] == "SAFETY" and "candidates" not in d


def test_gemini_stream_route_without_alt_sse_is_a_json_array(fake):
    r = stream(fake, "gemini", "gemini-2.5-pro", query="")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    arr = r.json()
    assert isinstance(arr, list) and len(arr) >= 3
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in arr) == \
        expected_reply("gemini", "gemini-2.5-pro", MESSAGES)["content"]
    assert arr[-1]["candidates"][0]["finishReason"] == "STOP"
    rec = fake.requests()[0]
    assert rec["stream"] is False and rec["stream_requested"] is False
    # stream faults act as without streaming
    fake.script("gemini-2.5-pro", ["stream_no_done", "stream_error_event"])
    assert isinstance(stream(fake, "gemini", "gemini-2.5-pro", query="").json(), list)
    assert stream(fake, "gemini", "gemini-2.5-pro", query="").status == 503


# ----------------------------------------------------------------------------- detection rules, errors, timing kinds


def test_streaming_detection_rules(fake):
    for val in (False, "true", 1, None):
        r = call(fake, "openai", "gpt-4o", body=oa(stream=val))
        assert r.headers["content-type"] == "application/json", val
    b = anthropic_body("claude-sonnet-4-5")
    b["stream"] = False
    assert call(fake, "anthropic", "claude-sonnet-4-5", body=b).headers["content-type"] == "application/json"
    # generateContent never streams, even with alt=sse; a "stream" field means nothing to Gemini
    gb = gemini_body()
    gb["stream"] = True
    r = stream(fake, "gemini", "gemini-2.5-pro", body=gb, query="?alt=sse")
    assert r.headers["content-type"] == "text/event-stream"
    path, body, hdrs = stream_request("gemini", "gemini-2.5-pro")
    s = open_request(fake.port, path.replace(":streamGenerateContent", ":generateContent"), body, hdrs)
    try:
        assert read_response(s, wait_eof=False).headers["content-type"].startswith("application/json")
    finally:
        s.close()
    assert [x["stream"] for x in fake.requests()] == [False] * 5 + [True, False]


@pytest.mark.parametrize("flavor,model,status", [
    ("openai", "gpt-4o", 429), ("anthropic", "claude-sonnet-4-5", 429), ("gemini", "gemini-2.5-pro", 429),
])
def test_error_kinds_do_not_stream(fake, flavor, model, status):
    fake.script(model, ["rate_limited", "insufficient_quota", "malformed"])
    r = stream(fake, flavor, model)
    assert r.status == status and r.headers["content-type"].startswith("application/json") and r.json()["error"]
    assert stream(fake, flavor, model).status in (400, 429)
    r = stream(fake, flavor, model)
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        r.json()
    rec = fake.requests()
    assert all(x["stream"] is False and x["stream_requested"] is True for x in rec)


def test_slow_and_hold_then_stream(fake):
    fake.script("gpt-4o", ["slow:50", {"kind": "hold", "after": "tool_call"}])
    out = openai_reassemble(parse_sse(stream(fake, "openai", "gpt-4o").text))
    assert out["done"] and out["content"].startswith("fake-openai")
    assert fake.requests()[0]["ended"] == "done"
    import threading

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", stream(fake, "openai", "gpt-4o", timeout=30)))
    t.start()
    assert wait_for(lambda: len(fake.requests()) == 2)
    fake.release("gpt-4o")
    t.join(30)
    out = openai_reassemble(parse_sse(box["r"].text))
    assert out["finish"] == "tool_calls" and out["tool_calls"][0]["name"] == "lookup"
    assert fake.requests()[1]["ended"] == "done"


# ----------------------------------------------------------------------------- sse options, framing


def _events_plain(fake, flavor, model):
    fake.script(model, ["ok"])
    return parse_sse(stream(fake, flavor, model).text)


@pytest.mark.parametrize("flavor,model", [("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"),
                                          ("gemini", "gemini-2.5-pro")])
def test_sse_options_keep_the_events(fake, flavor, model):
    def strip(evs):  # ids, timestamps and counters differ between answers
        out = []
        for e in evs:
            if e["data"] == "[DONE]":
                out.append(e)
                continue
            d = json.loads(e["data"])
            for k in ("id", "created", "responseId"):
                d.pop(k, None)
            if "message" in d:
                d["message"].pop("id")
            out.append({"event": e["event"], "data": d})
        return out

    plain = strip(_events_plain(fake, flavor, model))
    fake.script(model, [{"kind": "ok", "sse": "crlf"}, {"kind": "ok", "sse": "comments"},
                        {"kind": "ok", "sse": "multiline"}, {"kind": "ok", "sse": "split"},
                        {"kind": "ok", "sse": ["lf", "comments", "multiline", "split"]}])
    r = stream(fake, flavor, model)
    assert "\r\n\r\n" in r.text and "\n\n" not in r.text.replace("\r\n\r\n", "")
    assert strip(parse_sse(r.text)) == plain
    r = stream(fake, flavor, model)
    assert r.text.count(": keep-alive") == len(plain)
    assert strip(parse_sse(r.text)) == plain
    r = stream(fake, flavor, model)
    lines = [ln for ln in r.text.replace("\r\n", "\n").split("\n")
             if ln.startswith("data: {") and ln not in ('data: {"type":"ping"}', 'data: {"type":"message_stop"}')]
    assert lines and not any(ln.endswith("}") for ln in lines), "every JSON event (of 2+ keys) spans two lines"
    assert strip(parse_sse(r.text)) == plain
    r = stream(fake, flavor, model)
    assert r.reads >= 10, "tiny writes should arrive in many reads"
    assert strip(parse_sse(r.text)) == plain
    r = stream(fake, flavor, model)
    assert "\r" not in r.text and strip(parse_sse(r.text)) == plain


def test_close_framing_and_http10(fake):
    fake.script("claude-sonnet-4-5", [{"kind": "ok", "framing": "close"}])
    r = stream(fake, "anthropic", "claude-sonnet-4-5", wait_eof=True)
    assert r.status == 200 and r.headers["connection"] == "close"
    assert "transfer-encoding" not in r.headers and "content-length" not in r.headers
    assert r.eof and anthropic_reassemble(parse_sse(r.text))["names"][-1] == "message_stop"
    r = stream(fake, "openai", "gpt-4o", wait_eof=True, version="HTTP/1.0")
    assert r.headers["connection"] == "close" and "transfer-encoding" not in r.headers
    assert r.eof and openai_reassemble(parse_sse(r.text))["done"]
    assert [x["ended"] for x in fake.requests()] == ["done", "done"]
