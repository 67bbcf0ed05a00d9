"""Checks of the fake provider server on its own: exact success bodies, HTTP plumbing, script mode, misc.

Run: python3 -m pytest Tests/fakes -q

The other test_fakes_*.py files cover recording/scripting/validation, error kinds and timing kinds.
"""

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fake_providers as fpmod  # noqa: E402
from fake_providers import RemoteFakeProviders, expected_reply, reply_text  # noqa: E402
from fakes_testlib import (  # noqa: E402
    GEMINI_KEY,
    MESSAGES,
    OPENAI_KEY,
    anthropic_body,
    assert_length_ok,
    call,
    gemini_body,
    openai_body,
)


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


def test_gemini_other_methods_are_not_served(fake):
    # :generateContent and :streamGenerateContent are (test_fakes_streaming.py); other methods are unknown routes
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", "/gemini/v1beta/models/gemini-1.5-pro:countTokens", json.dumps(gemini_body()),
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

    # held requests answer only once released: seeing all 8 held at once proves they are served concurrently
    fake.script("gpt-4o", [], then="hold")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        futures = [ex.submit(lambda: call(fake, "openai", "gpt-4o", timeout=30).status) for _ in range(8)]
        deadline = time.monotonic() + 20
        while len(fake.requests()) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        held = fake.requests()
        assert len(held) == 8 and all(r.get("ended") is None for r in held), held
        assert not any(f.done() for f in futures), "a held request was answered before the release"
        fake.release("gpt-4o")
        statuses = [f.result(timeout=30) for f in futures]
    assert statuses == [200] * 8
    assert [r["ended"] for r in fake.requests()] == ["released"] * 8
