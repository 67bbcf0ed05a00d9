"""Checks of the fake provider server: timing kinds (slow, hang, stall_body, hold) and prompt stop.

Run: python3 -m pytest Tests/fakes -q
"""

import json
import os
import select
import socket
import sys
import threading
import time
import urllib.error

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import HANG_LIMIT_S, normalize_step, start_fake_providers  # noqa: E402
from fakes_testlib import call, openai_body, route_for  # noqa: E402


# ----------------------------------------------------------------------------- timing kinds


def _wait_for(pred, timeout=20.0):
    """Poll pred() every 20 ms until true; False after `timeout` (generous: a bound, never a measurement)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_slow_answers_ok_after_delay(fake):
    fake.script("gpt-4o", ["slow:300"])
    t0 = time.monotonic()
    r = call(fake, "openai", "gpt-4o", timeout=20)
    dt = time.monotonic() - t0
    assert r.status == 200
    assert r.json()["choices"][0]["message"]["content"].startswith("fake-openai gpt-4o says:")
    assert dt >= 0.28, "answered before its delay"
    assert fake.requests()[0]["ended"] == "answered"


def test_slow_object_form(fake):
    fake.script("claude-3-haiku-20240307", [{"kind": "slow", "ms": 100}])
    t0 = time.monotonic()
    assert call(fake, "anthropic", "claude-3-haiku-20240307").status == 200
    assert time.monotonic() - t0 >= 0.09


def test_slow_client_gone_is_noticed(fake):
    fake.script("gpt-4o", ["slow:30000"])  # far longer than the client waits
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake, "openai", "gpt-4o", timeout=0.3)
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed"), fake.requests()


@pytest.mark.parametrize("flavor,model", [
    ("openai", "gpt-4o"), ("anthropic", "claude-3-haiku-20240307"), ("gemini", "gemini-1.5-pro"),
])
def test_hang_never_answers_until_client_goes_away(fake, flavor, model):
    fake.script(model, ["hang"])
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake, flavor, model, timeout=0.5)
    # the fake noticed the client leaving (and did not answer: `ended` would say "answered")
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed"), fake.requests()
    # the server still serves
    assert call(fake, flavor, model).status == 200


def test_stall_body_sends_headers_and_part_of_the_body(fake):
    model = "claude-3-5-sonnet-20241022"
    fake.script(model, ["stall_body"])
    path, body, hdrs = route_for("anthropic", model)
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=20)
    try:
        data = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        s.sendall(head.encode() + data)
        # barrier: the fake records how much body it wrote before it stalls; it sends nothing after that
        assert _wait_for(lambda: fake.requests() and "sent_body_bytes" in fake.requests()[0]), fake.requests()
        sent = fake.requests()[0]["sent_body_bytes"]
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            assert chunk, "connection closed before the headers"
            got += chunk
        head_raw, rest = got.split(b"\r\n\r\n", 1)
        assert head_raw.startswith(b"HTTP/1.1 200")
        length = int([ln.split(b":", 1)[1] for ln in head_raw.split(b"\r\n")
                      if ln.lower().startswith(b"content-length")][0])
        while len(rest) < sent:
            chunk = s.recv(65536)
            assert chunk, "connection closed before the part of the body that was sent"
            rest += chunk
        # some of the body, never all of it: the full Content-Length was promised, a third delivered
        assert len(rest) == sent and 0 < sent < length, (len(rest), sent, length)
        assert fake.requests()[0].get("ended") is None, "the fake stopped stalling while the client was there"
    finally:
        s.close()
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed")


def test_stop_is_prompt_with_a_hang_in_flight():
    fp = start_fake_providers()
    fp.script("gpt-4o", [], then="hang")
    s = socket.create_connection(("127.0.0.1", fp.port), timeout=20)
    body = json.dumps(openai_body("gpt-4o")).encode()
    s.sendall(
        b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    assert _wait_for(lambda: len(fp.requests()) == 1)
    t0 = time.monotonic()
    fp.stop()
    # the hang would last HANG_LIMIT_S (60 s): stop() must cut it, well before that
    assert time.monotonic() - t0 < HANG_LIMIT_S / 3
    r, _, _ = select.select([s], [], [], HANG_LIMIT_S / 3)
    assert r, "connection should be closed by stop()"
    s.close()


# ----------------------------------------------------------------------------- hold: answer when released


def _call_in_thread(fake, flavor, model, box, key):
    def run():
        try:
            box[key] = call(fake, flavor, model, timeout=30)
        except Exception as e:  # noqa: BLE001 - checked by the test
            box[key] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_hold_answers_only_when_released(fake):
    fake.script("gpt-4o", [], then="hold")
    box = {}
    threads = [_call_in_thread(fake, "openai", "gpt-4o", box, i) for i in range(3)]
    # all three are in flight at once: none can finish before the release
    assert _wait_for(lambda: len(fake.requests()) == 3)
    assert all(r["kind"] == "hold" and r.get("ended") is None for r in fake.requests()), fake.requests()
    assert box == {}, "a held request was answered before the release"
    # releasing another model changes nothing for these (a correct fake can never answer them here)
    fake.release("gpt-4o-mini")
    assert call(fake, "openai", "gpt-4o-mini").status == 200
    assert box == {} and all(r.get("ended") is None for r in fake.requests(model="gpt-4o"))
    fake.release("gpt-4o")
    for t in threads:
        t.join(30)
    assert [box[i].status for i in range(3)] == [200, 200, 200], box
    assert box[0].json()["choices"][0]["message"]["content"].startswith("fake-openai gpt-4o says:")
    assert [r["ended"] for r in fake.requests(model="gpt-4o")] == ["released"] * 3
    # the gate stays open: a later hold step answers at once
    assert call(fake, "openai", "gpt-4o").status == 200


def test_hold_then_error_kind(fake):
    fake.script("claude-3-haiku-20240307", [{"kind": "hold", "after": "overloaded"}], then="ok")
    box = {}
    t = _call_in_thread(fake, "anthropic", "claude-3-haiku-20240307", box, "r")
    assert _wait_for(lambda: len(fake.requests()) == 1)
    fake.release()  # every model
    t.join(30)
    assert box["r"].status == 529 and box["r"].json()["error"]["type"] == "overloaded_error"
    assert fake.requests()[0]["ended"] == "released"


def test_hold_client_gone_and_reset_releases(fake):
    fake.script("gemini-1.5-pro", [], then="hold")
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake, "gemini", "gemini-1.5-pro", timeout=0.5)
    assert _wait_for(lambda: fake.requests()[0].get("ended") == "client_closed"), fake.requests()
    # reset lets a held request go (no request outlives a test), and closes the gates again
    fake.script("gemini-1.5-pro", [], then="hold")
    box = {}
    t = _call_in_thread(fake, "gemini", "gemini-1.5-pro", box, "r")
    assert _wait_for(lambda: len(fake.requests()) == 2)
    fake.reset()
    t.join(30)
    assert not t.is_alive() and box["r"].status == 200, box
    # after the reset the gate is closed again: a new hold waits for its own release
    fake.script("gemini-1.5-pro", [], then="hold")
    t = _call_in_thread(fake, "gemini", "gemini-1.5-pro", box, "again")
    assert _wait_for(lambda: len(fake.requests()) == 1)
    assert "again" not in box and fake.requests()[0].get("ended") is None
    fake.release("gemini-1.5-pro")
    t.join(30)
    assert box["again"].status == 200 and fake.requests()[0]["ended"] == "released"


def test_hold_step_validation():
    assert normalize_step("hold") == {"kind": "hold", "after": "ok"}
    assert normalize_step({"kind": "hold", "after": "rate_limited", "retry_after": 2}) == {
        "kind": "hold", "after": "rate_limited", "retry_after": 2}
    for bad in ("hang", "slow", "hold", "bogus", 3):
        with pytest.raises(ValueError):
            normalize_step({"kind": "hold", "after": bad})


def test_release_over_the_control_route(fake):
    from fake_providers import RemoteFakeProviders

    remote = RemoteFakeProviders(fake.port)  # the same server, driven over HTTP like a fake run as a script
    assert remote.script("gpt-4o", [], then="hold") == {"ok": True}
    box = {}
    t = _call_in_thread(fake, "openai", "gpt-4o", box, "r")
    assert _wait_for(lambda: len(remote.requests(model="gpt-4o")) == 1)
    assert "r" not in box
    assert remote.release("gpt-4o") == {"ok": True}
    t.join(30)
    assert box["r"].status == 200 and remote.requests()[0]["ended"] == "released"
    assert remote.release() == {"ok": True}
    with pytest.raises(urllib.error.HTTPError) as ei:
        remote.release(3)  # not a model name
    assert ei.value.code == 400
