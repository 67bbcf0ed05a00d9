"""Checks of the fake provider server: the error kinds of every flavor (OpenAI/compat, Anthropic, Gemini).

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import mask_key  # noqa: E402
from fakes_testlib import GEMINI_KEY, OPENAI_KEY, assert_length_ok, call  # noqa: E402


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


# ----------------------------------------------------------------------------- 503 with Retry-After


@pytest.mark.parametrize("flavor,model,kind,status", [
    ("openai", "gpt-4o", "unavailable", 503),
    ("compat", "llama-3.1-8b-instruct", "overloaded", 503),
    ("anthropic", "claude-3-haiku-20240307", "unavailable", 503),
    ("anthropic", "claude-3-haiku-20240307", "overloaded", 529),
])
def test_unavailable_with_retry_after(fake, flavor, model, kind, status):
    # param retry_after adds a retry-after header; without it there is none (as before)
    fake.script(model, [{"kind": kind, "retry_after": 4}, kind])
    r = call(fake, flavor, model)
    assert r.status == status and r.headers["retry-after"] == "4"
    assert "retry-after-ms" not in r.headers
    assert_length_ok(r)
    r = call(fake, flavor, model)
    assert r.status == status and "retry-after" not in r.headers


def test_gemini_unavailable_with_retry_info(fake):
    fake.script("gemini-1.5-pro", [{"kind": "unavailable", "retry_after": 2.5}, "unavailable"])
    r = call(fake, "gemini", "gemini-1.5-pro")
    assert r.status == 503
    e = r.json()["error"]
    assert e["status"] == "UNAVAILABLE"
    assert e["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}]
    assert "retry-after" not in r.headers
    e = call(fake, "gemini", "gemini-1.5-pro").json()["error"]
    assert "details" not in e
