"""Checks of the fake provider server on its own: routes, kinds, exact bodies, headers, status codes.

Run: python3 -m pytest Tests/fakes -q
"""

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fake_providers as fpmod  # noqa: E402
from fake_providers import RemoteFakeProviders, expected_reply, mask_key, reply_text, start_fake_providers  # noqa: E402

OPENAI_KEY = "sk-fake-openai-SECRET123"
ANTHROPIC_KEY = "sk-ant-fake-SECRET456"
GEMINI_KEY = "AIzaFakeGeminiSECRET789"

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is the capital of France? Answer in one word please, thanks."},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Italy?"},
]


@pytest.fixture(scope="module")
def fake():
    fp = start_fake_providers()
    yield fp
    fp.stop()


@pytest.fixture(autouse=True)
def _reset(fake):
    fake.reset()
    yield


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


# ----------------------------------------------------------------------------- success bodies


def test_openai_ok_exact_body(fake):
    r = call(fake, "openai", "gpt-4o")
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert_length_ok(r)
    b = r.json()
    exp = expected_reply("openai", "gpt-4o", MESSAGES)
    assert exp["content"] == "fake-openai gpt-4o says: And of Italy?"
    assert b["object"] == "chat.completion"
    assert b["id"].startswith("chatcmpl-")
    assert isinstance(b["created"], int)
    assert b["model"] == "gpt-4o"
    assert b["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": exp["content"], "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    words = sum(len(m["content"].split()) for m in MESSAGES)
    assert b["usage"]["prompt_tokens"] == words == exp["input_tokens"]
    assert b["usage"]["completion_tokens"] == len(exp["content"].split()) == exp["output_tokens"]
    assert b["usage"]["total_tokens"] == exp["input_tokens"] + exp["output_tokens"]


def test_compat_ok_uses_its_own_flavor(fake):
    r = call(fake, "compat", "llama-3.1-8b-instruct")
    assert r.status == 200
    b = r.json()
    assert b["choices"][0]["message"]["content"] == "fake-compat llama-3.1-8b-instruct says: And of Italy?"
    assert fake.requests()[0]["flavor"] == "compat"


def test_anthropic_ok_exact_body(fake):
    r = call(fake, "anthropic", "claude-3-5-sonnet-20241022")
    assert r.status == 200
    assert_length_ok(r)
    assert r.headers["request-id"].startswith("req_")
    b = r.json()
    exp = expected_reply("anthropic", "claude-3-5-sonnet-20241022", MESSAGES)
    assert b["type"] == "message"
    assert b["role"] == "assistant"
    assert b["id"].startswith("msg_")
    assert b["model"] == "claude-3-5-sonnet-20241022"
    assert b["content"] == [{"type": "text", "text": exp["content"]}]
    assert b["stop_reason"] == "end_turn"
    assert b["stop_sequence"] is None
    assert b["usage"]["input_tokens"] == exp["input_tokens"]
    assert b["usage"]["output_tokens"] == exp["output_tokens"]


def test_anthropic_system_as_blocks_counts(fake):
    body = anthropic_body("claude-3-haiku-20240307")
    body["system"] = [{"type": "text", "text": "You are terse."}]
    r = call(fake, "anthropic", "claude-3-haiku-20240307", body=body)
    assert r.status == 200
    assert r.json()["usage"]["input_tokens"] == expected_reply("anthropic", "x", MESSAGES)["input_tokens"]


def test_gemini_ok_exact_body(fake):
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == 200
    assert_length_ok(r)
    assert r.headers["content-type"].startswith("application/json")
    b = r.json()
    exp = expected_reply("gemini", "gemini-1.5-pro", MESSAGES)
    assert b["candidates"] == [
        {"content": {"parts": [{"text": exp["content"]}], "role": "model"}, "finishReason": "STOP", "index": 0}
    ]
    u = b["usageMetadata"]
    assert u["promptTokenCount"] == exp["input_tokens"]
    assert u["candidatesTokenCount"] == exp["output_tokens"]
    assert u["totalTokenCount"] == exp["input_tokens"] + exp["output_tokens"]
    assert b["modelVersion"] == "gemini-1.5-pro"


def test_ok_content_override_and_usage_override(fake):
    fake.script("gpt-4o", [{"kind": "ok", "content": "forty two", "input_tokens": 7, "output_tokens": 9}])
    b = call(fake, "openai", "gpt-4o").json()
    assert b["choices"][0]["message"]["content"] == "forty two"
    assert b["usage"]["prompt_tokens"] == 7 and b["usage"]["completion_tokens"] == 9


def test_long_user_message_truncated_to_40_chars(fake):
    msgs = [{"role": "user", "content": "x" * 100 + " tail"}]
    b = call(fake, "openai", "gpt-4o", body=openai_body("gpt-4o", msgs)).json()
    assert b["choices"][0]["message"]["content"] == reply_text("openai", "gpt-4o", "x" * 40)


# ----------------------------------------------------------------------------- keep-alive / HTTP plumbing


def test_keep_alive_reuses_connection(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        r1 = call(fake, "openai", "gpt-4o", conn=conn)
        sock1 = conn.sock
        assert sock1 is not None, "server closed a keep-alive connection"
        assert r1.headers.get("connection", "").lower() != "close"
        r2 = call(fake, "anthropic", "claude-3-haiku-20240307", conn=conn)
        assert conn.sock is sock1
        fake.script("gemini-1.5-flash", ["rate_limited"])
        r3 = call(fake, "gemini", "gemini-1.5-flash", conn=conn)
        assert conn.sock is sock1, "an error answer must not close the connection"
        assert (r1.status, r2.status, r3.status) == (200, 200, 429)
    finally:
        conn.close()


def test_chunked_request_body(fake):
    body = json.dumps(openai_body("gpt-4o")).encode()
    chunks = [body[:10], body[10:50], body[50:]]
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    try:
        head = (
            "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {OPENAI_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        payload = head + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        s.sendall(payload)
        data = b""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            data += s.recv(65536)
        head_raw, rest = data.split(b"\r\n\r\n", 1)
        assert head_raw.startswith(b"HTTP/1.1 200")
        length = int([ln.split(b":", 1)[1] for ln in head_raw.split(b"\r\n") if ln.lower().startswith(b"content-length")][0])
        while len(rest) < length and time.monotonic() < deadline:
            rest += s.recv(65536)
        assert json.loads(rest[:length])["choices"][0]["message"]["content"].startswith("fake-openai gpt-4o says:")
    finally:
        s.close()
    assert fake.requests()[0]["body"]["model"] == "gpt-4o"


def test_unknown_route_404_and_recorded(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", "/openai/v1/completions", b"{}", {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 404
    assert "Invalid URL" in body["error"]["message"]
    reqs = fake.requests()
    assert len(reqs) == 1 and reqs[0]["flavor"] is None and reqs[0]["route"] == "/openai/v1/completions"


def test_gemini_streaming_route_is_not_served(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", "/gemini/v1beta/models/gemini-1.5-pro:streamGenerateContent", json.dumps(gemini_body()),
                 {"x-goog-api-key": GEMINI_KEY})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 404


def test_unparsable_request_body_400(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", "/anthropic/v1/messages", b"{nope", {"x-api-key": "k", "anthropic-version": "2023-06-01"})
    r = conn.getresponse()
    b = json.loads(r.read())
    conn.close()
    assert r.status == 400
    assert b["type"] == "error" and b["error"]["type"] == "invalid_request_error"
    rec = fake.requests()[0]
    assert rec["body"] is None and rec["raw_body"] == "{nope"


def test_get_on_provider_route_405(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("GET", "/openai/v1/chat/completions")
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 405


# ----------------------------------------------------------------------------- recording


def test_requests_recorded_with_lowercase_headers_and_parsed_body(fake):
    call(fake, "gemini", "gemini-1.5-pro", headers={"X-Goog-Api-Key": GEMINI_KEY, "X-Custom": "1"})
    call(fake, "anthropic", "claude-3-5-sonnet-20241022")
    reqs = fake.requests()
    assert [r["flavor"] for r in reqs] == ["gemini", "anthropic"]
    g, a = reqs
    assert g["path"] == "/gemini/v1beta/models/gemini-1.5-pro:generateContent"
    assert g["model"] == "gemini-1.5-pro"
    assert g["headers"]["x-goog-api-key"] == GEMINI_KEY
    assert g["headers"]["x-custom"] == "1"
    assert all(k == k.lower() for k in g["headers"])
    assert g["body"] == gemini_body()
    assert g["query"] == {}
    assert g["kind"] == "ok"
    assert a["body"]["system"] == "You are terse."
    assert a["headers"]["anthropic-version"] == "2023-06-01"
    assert a["headers"]["x-api-key"] == ANTHROPIC_KEY
    assert a["model"] == "claude-3-5-sonnet-20241022"
    assert [r["seq"] for r in reqs] == [1, 2]
    assert fake.requests(model="gemini-1.5-pro") == [g]
    assert fake.requests(flavor="anthropic") == [a]


def test_gemini_key_in_query_is_recorded_in_path(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", f"/gemini/v1beta/models/gemini-1.5-pro:generateContent?key={GEMINI_KEY}",
                 json.dumps(gemini_body()), {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 200  # the real API accepts it, tests catch it
    rec = fake.requests()[0]
    assert GEMINI_KEY in rec["path"]
    assert rec["query"] == {"key": [GEMINI_KEY]}


def test_control_requests_route_and_reset(fake):
    call(fake, "openai", "gpt-4o")
    with urllib.request.urlopen(fake.url + "/_control/requests", timeout=10) as resp:
        lst = json.loads(resp.read())
    assert isinstance(lst, list) and len(lst) == 1 and lst[0]["headers"]["authorization"] == f"Bearer {OPENAI_KEY}"
    fake.script("gpt-4o", [], then="server_error")
    req = urllib.request.Request(fake.url + "/_control/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read()) == {"ok": True}
    assert fake.requests() == []
    assert call(fake, "openai", "gpt-4o").status == 200, "reset forgets scripts"


def test_control_script_route_validation(fake):
    def post(obj):
        req = urllib.request.Request(fake.url + "/_control/script", data=json.dumps(obj).encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    assert post({"model": "gpt-4o", "steps": [{"kind": "ok"}, "slow:10"], "then": "auth"}) == (200, {"ok": True})
    st, b = post({"model": "gpt-4o", "steps": ["explode"]})
    assert st == 400 and "explode" in b["error"]
    st, b = post({"model": "gpt-4o", "steps": ["slow:abc"]})
    assert st == 400
    st, b = post({"steps": ["ok"]})
    assert st == 400
    with pytest.raises(ValueError):
        fake.script("gpt-4o", ["nope"])


# ----------------------------------------------------------------------------- scripting


def test_steps_consumed_in_order_then_forever(fake):
    fake.script("gpt-4o", ["rate_limited", {"kind": "server_error"}, "ok"], then="unavailable")
    statuses = [call(fake, "openai", "gpt-4o").status for _ in range(6)]
    assert statuses == [429, 500, 200, 503, 503, 503]
    assert [r["kind"] for r in fake.requests()] == ["rate_limited", "server_error", "ok"] + ["unavailable"] * 3
    # other models are unaffected
    assert call(fake, "openai", "gpt-4o-mini").status == 200


def test_wildcard_script(fake):
    fake.script("*", [], then="server_error")
    fake.script("gpt-4o", [], then="ok")
    assert call(fake, "openai", "gpt-4o").status == 200
    assert call(fake, "anthropic", "claude-3-haiku-20240307").status == 500
    assert call(fake, "gemini", "gemini-1.5-flash").status == 500


# ----------------------------------------------------------------------------- error kinds: OpenAI / compat


def _oa_err(r):
    b = r.json()
    assert set(b) == {"error"}
    assert set(b["error"]) >= {"message", "type", "param", "code"}
    return b["error"]


def test_openai_rate_limited(fake):
    fake.script("gpt-4o", [{"kind": "rate_limited", "retry_after": 2}])
    r = call(fake, "openai", "gpt-4o")
    assert r.status == 429
    assert r.headers["retry-after"] == "2"
    assert r.headers["retry-after-ms"] == "2000"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    e = _oa_err(r)
    assert e["code"] == "rate_limit_exceeded"
    assert e["type"] == "requests"
    assert "Rate limit reached for gpt-4o" in e["message"]
    assert_length_ok(r)


def test_openai_rate_limited_default_and_fractional(fake):
    fake.script("gpt-4o", ["rate_limited", {"kind": "rate_limited", "retry_after": 0.5}])
    r = call(fake, "openai", "gpt-4o")
    assert r.headers["retry-after"] == "1" and r.headers["retry-after-ms"] == "1000"
    r = call(fake, "openai", "gpt-4o")
    assert r.headers["retry-after"] == "0.5" and r.headers["retry-after-ms"] == "500"


@pytest.mark.parametrize(
    "kind,status,etype,code",
    [
        ("server_error", 500, "server_error", None),
        ("unavailable", 503, "server_error", None),
        ("overloaded", 503, "server_error", None),
        ("auth", 401, "invalid_request_error", "invalid_api_key"),
        ("invalid_key", 401, "invalid_request_error", "invalid_api_key"),
        ("forbidden", 403, "request_forbidden", "unsupported_country_region_territory"),
        ("bad_request", 400, "invalid_request_error", "invalid_type"),
        ("not_found", 404, "invalid_request_error", "model_not_found"),
        ("context_length", 400, "invalid_request_error", "context_length_exceeded"),
        ("content_filter", 400, "invalid_request_error", "content_policy_violation"),
    ],
)
def test_openai_error_kinds(fake, kind, status, etype, code):
    fake.script("gpt-4o", [kind])
    r = call(fake, "openai", "gpt-4o")
    assert r.status == status
    assert r.headers["content-type"] == "application/json"
    assert_length_ok(r)
    e = _oa_err(r)
    assert e["type"] == etype
    assert e["code"] == code
    assert isinstance(e["message"], str) and e["message"]
    assert "retry-after" not in r.headers


def test_openai_auth_message_masks_the_key(fake):
    fake.script("gpt-4o", ["auth"])
    e = _oa_err(call(fake, "openai", "gpt-4o"))
    assert OPENAI_KEY not in e["message"]
    assert mask_key(OPENAI_KEY) in e["message"]
    assert mask_key(OPENAI_KEY).startswith("sk-") and mask_key(OPENAI_KEY).endswith("T123")


def test_compat_content_filter_is_azure_style(fake):
    fake.script("llama-3.1-8b-instruct", ["content_filter"])
    r = call(fake, "compat", "llama-3.1-8b-instruct")
    assert r.status == 400
    e = r.json()["error"]
    assert e["code"] == "content_filter"
    assert e["innererror"]["code"] == "ResponsibleAIPolicyViolation"


@pytest.mark.parametrize("flavor,model", [("openai", "gpt-4o"), ("compat", "llama-3.1-8b-instruct")])
def test_openai_200_oddities(fake, flavor, model):
    fake.script(model, ["malformed", "empty", "error_in_200", "safety_stop"])
    r = call(fake, flavor, model)
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert_length_ok(r)
    with pytest.raises(ValueError):
        json.loads(r.raw)
    r = call(fake, flavor, model)
    assert r.status == 200
    b = r.json()
    assert b["choices"] == [] and b["object"] == "chat.completion"
    r = call(fake, flavor, model)
    assert r.status == 200 and "error" in r.json() and "choices" not in r.json()
    r = call(fake, flavor, model)
    b = r.json()
    assert b["choices"][0]["finish_reason"] == "content_filter"
    assert b["choices"][0]["message"]["content"] is None


@pytest.mark.parametrize("flavor,model", [
    ("openai", "gpt-4o"), ("anthropic", "claude-3-haiku-20240307"), ("gemini", "gemini-1.5-pro"),
])
def test_gateway_html(fake, flavor, model):
    fake.script(model, ["gateway"])
    r = call(fake, flavor, model)
    assert r.status == 502
    assert r.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in r.raw
    assert_length_ok(r)


# ----------------------------------------------------------------------------- error kinds: Anthropic


@pytest.mark.parametrize(
    "kind,status,etype,msg_part",
    [
        ("rate_limited", 429, "rate_limit_error", "rate limit"),
        ("server_error", 500, "api_error", "Internal server error"),
        ("unavailable", 503, "api_error", "unavailable"),
        ("overloaded", 529, "overloaded_error", "Overloaded"),
        ("auth", 401, "authentication_error", "invalid x-api-key"),
        ("forbidden", 403, "permission_error", "permission"),
        ("bad_request", 400, "invalid_request_error", "messages"),
        ("not_found", 404, "not_found_error", "model"),
        ("context_length", 400, "invalid_request_error", "prompt is too long"),
        ("content_filter", 400, "invalid_request_error", "content filtering policy"),
    ],
)
def test_anthropic_error_kinds(fake, kind, status, etype, msg_part):
    model = "claude-3-5-sonnet-20241022"
    fake.script(model, [kind])
    r = call(fake, "anthropic", model)
    assert r.status == status
    assert r.headers["content-type"] == "application/json"
    assert r.headers["request-id"].startswith("req_")
    assert_length_ok(r)
    b = r.json()
    assert b["type"] == "error"
    assert b["error"]["type"] == etype
    assert msg_part.lower() in b["error"]["message"].lower()
    assert b["request_id"] == r.headers["request-id"]
    if kind == "rate_limited":
        assert r.headers["retry-after"] == "1"
        assert r.headers["anthropic-ratelimit-requests-remaining"] == "0"
    else:
        assert "retry-after" not in r.headers


def test_anthropic_overloaded_exact(fake):
    fake.script("claude-3-haiku-20240307", ["overloaded"])
    r = call(fake, "anthropic", "claude-3-haiku-20240307")
    assert r.status == 529
    b = r.json()
    assert b["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_anthropic_rate_limit_retry_after(fake):
    fake.script("claude-3-haiku-20240307", [{"kind": "rate_limited", "retry_after": 7}])
    r = call(fake, "anthropic", "claude-3-haiku-20240307")
    assert r.status == 429 and r.headers["retry-after"] == "7"


def test_anthropic_200_oddities(fake):
    model = "claude-3-haiku-20240307"
    fake.script(model, ["malformed", "empty", "safety_stop", "error_in_200"])
    r = call(fake, "anthropic", model)
    assert r.status == 200
    assert_length_ok(r)
    with pytest.raises(ValueError):
        json.loads(r.raw)
    b = call(fake, "anthropic", model).json()
    assert b["type"] == "message" and b["content"] == [] and b["stop_reason"] == "end_turn"
    b = call(fake, "anthropic", model).json()
    assert b["content"] == [] and b["stop_reason"] == "refusal"
    r = call(fake, "anthropic", model)
    assert r.status == 200 and r.json()["type"] == "error"


# ----------------------------------------------------------------------------- error kinds: Gemini


def test_gemini_rate_limited_retry_info(fake):
    fake.script("gemini-1.5-pro", [{"kind": "rate_limited", "retry_after": 3}])
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == 429
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert_length_ok(r)
    e = r.json()["error"]
    assert e["code"] == 429 and e["status"] == "RESOURCE_EXHAUSTED"
    retry = [d for d in e["details"] if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]
    # RetryInfo is not the first detail (as in the real API)
    assert e["details"][0]["@type"].endswith("QuotaFailure")
    assert "retry-after" not in r.headers


@pytest.mark.parametrize(
    "kind,status,gstatus",
    [
        ("server_error", 500, "INTERNAL"),
        ("unavailable", 503, "UNAVAILABLE"),
        ("overloaded", 503, "UNAVAILABLE"),
        ("auth", 401, "UNAUTHENTICATED"),
        ("invalid_key", 400, "INVALID_ARGUMENT"),
        ("forbidden", 403, "PERMISSION_DENIED"),
        ("suspended", 403, "PERMISSION_DENIED"),
        ("bad_request", 400, "INVALID_ARGUMENT"),
        ("not_found", 404, "NOT_FOUND"),
        ("context_length", 400, "INVALID_ARGUMENT"),
    ],
)
def test_gemini_error_kinds(fake, kind, status, gstatus):
    fake.script("gemini-1.5-pro", [kind])
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == status
    assert_length_ok(r)
    e = r.json()["error"]
    assert e["code"] == status
    assert e["status"] == gstatus
    assert isinstance(e["message"], str) and e["message"]


def test_gemini_invalid_key_has_error_info(fake):
    fake.script("gemini-1.5-pro", ["invalid_key"])
    e = call(fake, "gemini", "gemini-1.5-pro").json()["error"]
    assert e["message"] == "API key not valid. Please pass a valid API key."
    assert e["details"][0]["reason"] == "API_KEY_INVALID"


def test_gemini_suspended_echoes_the_key(fake):
    """The real API puts the full key into this message: a daemon must scrub it."""
    fake.script("gemini-1.5-pro", ["suspended"])
    e = call(fake, "gemini", "gemini-1.5-pro").json()["error"]
    assert GEMINI_KEY in e["message"]


def test_gemini_200_oddities(fake):
    fake.script("gemini-1.5-pro", ["content_filter", "safety_stop", "empty", "malformed", "error_in_200"])
    b = call(fake, "gemini", "gemini-1.5-pro").json()
    assert b["promptFeedback"]["blockReason"] == "SAFETY"
    assert "candidates" not in b
    b = call(fake, "gemini", "gemini-1.5-pro").json()
    assert b["candidates"][0]["finishReason"] == "SAFETY"
    assert "content" not in b["candidates"][0]
    b = call(fake, "gemini", "gemini-1.5-pro").json()
    assert b["candidates"][0]["finishReason"] == "STOP"
    assert "parts" not in b["candidates"][0]["content"]
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == 200
    assert_length_ok(r)
    with pytest.raises(ValueError):
        json.loads(r.raw)
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == 200 and "error" in r.json()


# ----------------------------------------------------------------------------- auth presence + validation


def test_missing_keys_rejected_like_the_real_apis(fake):
    r = call(fake, "openai", "gpt-4o", headers={})
    assert r.status == 401 and "didn't provide an API key" in r.json()["error"]["message"]
    r = call(fake, "anthropic", "claude-3-haiku-20240307", headers={"anthropic-version": "2023-06-01"})
    assert r.status == 401 and r.json()["error"]["type"] == "authentication_error"
    r = call(fake, "gemini", "gemini-1.5-pro", headers={})
    assert r.status == 403 and r.json()["error"]["status"] == "PERMISSION_DENIED"
    r = call(fake, "compat", "llama-3.1-8b-instruct", headers={})
    assert r.status == 200, "openai-compatible servers may run without a key"
    assert [x["kind"] for x in fake.requests()] == ["auth_missing"] * 3 + ["ok"]


def test_missing_keys_do_not_consume_steps(fake):
    fake.script("gpt-4o", ["server_error"])
    assert call(fake, "openai", "gpt-4o", headers={}).status == 401
    assert call(fake, "openai", "gpt-4o").status == 500


def test_anthropic_validation(fake):
    m = "claude-3-haiku-20240307"
    r = call(fake, "anthropic", m, headers={"x-api-key": ANTHROPIC_KEY})
    assert r.status == 400 and "anthropic-version" in r.json()["error"]["message"]
    body = anthropic_body(m)
    del body["max_tokens"]
    r = call(fake, "anthropic", m, body=body)
    assert r.status == 400 and r.json()["error"]["message"] == "max_tokens: Field required"
    body = anthropic_body(m)
    body["messages"] = MESSAGES  # system role inside messages
    r = call(fake, "anthropic", m, body=body)
    assert r.status == 400 and 'Unexpected role "system"' in r.json()["error"]["message"]
    body = anthropic_body(m)
    body["messages"] = []
    assert call(fake, "anthropic", m, body=body).status == 400


def test_openai_validation(fake):
    body = openai_body("gpt-4o")
    body["messages"] = [{"role": "robot", "content": "x"}]
    r = call(fake, "openai", "gpt-4o", body=body)
    assert r.status == 400 and r.json()["error"]["param"] == "messages[0].role"
    r = call(fake, "openai", "gpt-4o", body={"messages": MESSAGES})
    assert r.status == 400 and "model" in r.json()["error"]["message"]
    r = call(fake, "openai", "gpt-4o", body={"model": "gpt-4o", "messages": []})
    assert r.status == 400 and r.json()["error"]["code"] == "empty_array"


def test_gemini_validation(fake):
    body = gemini_body()
    body["contents"][1]["role"] = "assistant"
    r = call(fake, "gemini", "gemini-1.5-pro", body=body)
    assert r.status == 400 and r.json()["error"]["message"] == "Please use a valid role: user, model."
    r = call(fake, "gemini", "gemini-1.5-pro", body={"contents": []})
    assert r.status == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = call(fake, "gemini", "gemini-1.5-pro", body={"contents": [{"role": "user", "parts": []}]})
    assert r.status == 400
    # role may be omitted for a single-turn request
    r = call(fake, "gemini", "gemini-1.5-pro", body={"contents": [{"parts": [{"text": "hi there"}]}]})
    assert r.status == 200
    assert r.json()["candidates"][0]["content"]["parts"][0]["text"] == "fake-gemini gemini-1.5-pro says: hi there"


def test_gemini_model_path_is_url_decoded(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", "/gemini/v1beta/models/gemini-1.5-pro%2Dlatest:generateContent", json.dumps(gemini_body()),
                 {"x-goog-api-key": GEMINI_KEY})
    r = conn.getresponse()
    b = json.loads(r.read())
    conn.close()
    assert r.status == 200 and b["modelVersion"] == "gemini-1.5-pro-latest"


# ----------------------------------------------------------------------------- timing kinds


def _wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_slow_answers_ok_after_delay(fake):
    fake.script("gpt-4o", ["slow:300"])
    t0 = time.monotonic()
    r = call(fake, "openai", "gpt-4o")
    dt = time.monotonic() - t0
    assert r.status == 200
    assert r.json()["choices"][0]["message"]["content"].startswith("fake-openai gpt-4o says:")
    assert 0.28 <= dt < 5.0
    assert fake.requests()[0]["ended"] == "answered"


def test_slow_object_form(fake):
    fake.script("claude-3-haiku-20240307", [{"kind": "slow", "ms": 100}])
    t0 = time.monotonic()
    assert call(fake, "anthropic", "claude-3-haiku-20240307").status == 200
    assert time.monotonic() - t0 >= 0.09


def test_slow_client_gone_is_noticed(fake):
    fake.script("gpt-4o", ["slow:3000"])
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake, "openai", "gpt-4o", timeout=0.3)
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed")


@pytest.mark.parametrize("flavor,model", [
    ("openai", "gpt-4o"), ("anthropic", "claude-3-haiku-20240307"), ("gemini", "gemini-1.5-pro"),
])
def test_hang_never_answers_until_client_goes_away(fake, flavor, model):
    fake.script(model, ["hang"])
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake, flavor, model, timeout=0.5)
    assert time.monotonic() - t0 < 3
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed"), fake.requests()
    # the server still serves
    assert call(fake, flavor, model).status == 200


def test_stall_body_sends_headers_and_part_of_the_body(fake):
    model = "claude-3-5-sonnet-20241022"
    fake.script(model, ["stall_body"])
    path, body, hdrs = route_for("anthropic", model)
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    try:
        data = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        s.sendall(head.encode() + data)
        got = b""
        end = time.monotonic() + 5
        while b"\r\n\r\n" not in got and time.monotonic() < end:
            got += s.recv(65536)
        head_raw, rest = got.split(b"\r\n\r\n", 1)
        assert head_raw.startswith(b"HTTP/1.1 200")
        length = int([ln.split(b":", 1)[1] for ln in head_raw.split(b"\r\n")
                      if ln.lower().startswith(b"content-length")][0])
        # collect whatever arrives within 0.5 s: some body, never all of it
        s.settimeout(0.5)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except socket.timeout:
            pass
        assert 0 < len(rest) < length
    finally:
        s.close()
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed")


def test_stop_is_prompt_with_a_hang_in_flight():
    fp = start_fake_providers()
    fp.script("gpt-4o", [], then="hang")
    s = socket.create_connection(("127.0.0.1", fp.port), timeout=10)
    body = json.dumps(openai_body("gpt-4o")).encode()
    s.sendall(
        b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    assert _wait_for(lambda: len(fp.requests()) == 1)
    t0 = time.monotonic()
    fp.stop()
    assert time.monotonic() - t0 < 3
    r, _, _ = select.select([s], [], [], 3)
    assert r, "connection should be closed by stop()"
    s.close()


# ----------------------------------------------------------------------------- script mode


def test_runs_as_script_and_prints_port():
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen(
        [sys.executable, os.path.join(here, "fake_providers.py"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        r, _, _ = select.select([proc.stdout], [], [], 10)
        assert r, "no PORT line within 10 s"
        line = proc.stdout.readline()
        assert line.startswith("PORT ")
        port = int(line.split()[1])
        assert port > 0
        remote = RemoteFakeProviders(port)
        assert remote.base_url("anthropic") == f"http://127.0.0.1:{port}/anthropic/v1"
        remote.script("claude-3-haiku-20240307", ["overloaded"])
        r1 = call(remote, "anthropic", "claude-3-haiku-20240307")
        r2 = call(remote, "anthropic", "claude-3-haiku-20240307")
        assert (r1.status, r2.status) == (529, 200)
        reqs = remote.requests()
        assert [x["kind"] for x in reqs] == ["overloaded", "ok"]
        assert remote.requests(model="nope") == []
        remote.reset()
        assert remote.requests() == []
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise
    assert rc == 0


def test_base_urls(fake):
    p = fake.port
    assert fake.base_url("openai") == f"http://127.0.0.1:{p}/openai/v1"
    assert fake.base_url("openai-compatible") == f"http://127.0.0.1:{p}/compat/v1"
    assert fake.base_url("compat") == f"http://127.0.0.1:{p}/compat/v1"
    assert fake.base_url("anthropic") == f"http://127.0.0.1:{p}/anthropic/v1"
    assert fake.base_url("gemini") == f"http://127.0.0.1:{p}/gemini/v1beta"
    with pytest.raises(ValueError):
        fake.base_url("simulated")


def test_normalize_step():
    assert fpmod.normalize_step("slow:800") == {"kind": "slow", "ms": 800}
    assert fpmod.normalize_step({"kind": "slow:5"}) == {"kind": "slow", "ms": 5}
    assert fpmod.normalize_step({"kind": "rate_limited", "retry_after": 2}) == {"kind": "rate_limited", "retry_after": 2}
    for bad in ["slow:", "slow:-1", {"kind": "slow"}, 3, {"x": 1}, "bogus"]:
        with pytest.raises(ValueError):
            fpmod.normalize_step(bad)


def test_concurrent_clients(fake):
    import concurrent.futures

    fake.script("gpt-4o", [], then="slow:200")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        t0 = time.monotonic()
        statuses = list(ex.map(lambda _: call(fake, "openai", "gpt-4o").status, range(8)))
        dt = time.monotonic() - t0
    assert statuses == [200] * 8
    assert dt < 1.5, "requests must be served concurrently"
    assert len(fake.requests()) == 8
