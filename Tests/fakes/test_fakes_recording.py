"""Checks of the fake provider server: request recording, the control API, scripting, auth presence and validation.

Run: python3 -m pytest Tests/fakes -q
"""

import http.client
import json
import os
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakes_testlib import (  # noqa: E402
    ANTHROPIC_KEY,
    GEMINI_KEY,
    MESSAGES,
    OPENAI_KEY,
    anthropic_body,
    call,
    gemini_body,
    openai_body,
)


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
