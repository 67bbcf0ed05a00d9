"""Checks of the fake provider server: timing kinds (slow, hang, stall_body) and prompt stop.

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import select
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import start_fake_providers  # noqa: E402
from fakes_testlib import call, openai_body, route_for  # noqa: E402


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
