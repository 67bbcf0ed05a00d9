"""Pipelining and concurrency: every request answered exactly once, matched by id."""

import json
import threading
import time

import fbd_harness as H
from fake_providers import expected_reply

ROTATION = ["gpt-4o-mini", "claude-3-haiku", "gemini-flash", "local-llama"]


def test_fifty_pipelined_requests_on_one_connection(daemon, conn, fake):
    # some latency so replies can overtake each other
    fake.script("claude-3-haiku-20240307", [], then="slow:150")
    fake.script("gemini-1.5-flash", [], then="slow:50")
    expected = {}
    lines = []
    for i in range(50):
        rid = i if i % 3 else f"s-{i}"  # integer and string ids
        if i % 2 == 0:
            name = ROTATION[(i // 2) % len(ROTATION)]
            msgs = [{"role": "user", "content": f"request number {i} of fifty"}]
            req = {"jsonrpc": "2.0", "id": rid, "method": "complete",
                   "params": {"messages": msgs, "models": [name], "timeout_ms": 20000}}
            m = H.POOL[name]
            expected[rid] = ("complete", name, expected_reply(m.flavor, m.model_id, msgs)["content"])
        else:
            req = {"jsonrpc": "2.0", "id": rid, "method": "ping"}
            expected[rid] = ("ping", None, None)
        lines.append(json.dumps(req).encode())
    conn.send_raw(b"\n".join(lines) + b"\n")  # all 50 in one write

    seen = {}
    end = time.monotonic() + 30
    while len(seen) < 50 and time.monotonic() < end:
        r = conn.recv(timeout=max(0.1, end - time.monotonic()))
        assert r["id"] in expected, f"unexpected id {r['id']!r}"
        assert r["id"] not in seen, f"id {r['id']!r} answered twice"
        seen[r["id"]] = r
    assert len(seen) == 50, f"only {len(seen)} of 50 answered"
    for rid, (kind, name, content) in expected.items():
        r = seen[rid]
        assert "error" not in r, r
        if kind == "ping":
            assert r["result"] == "pong"
        else:
            assert r["result"]["model_used"] == name
            assert r["result"]["content"] == content, "reply matched to the wrong request"
    conn.expect_no_more_lines()  # nothing after the 50: no reply sent twice, no stray line
    assert len(fake.requests()) == 25


def test_concurrent_connections(daemon, fake):
    # held at the fake until released: all 12 there at once proves the daemon runs them concurrently
    fake.script("gpt-4o-mini", [], then="hold")
    results = {}
    errors = []

    def worker(i):
        try:
            with daemon.conn(timeout=30) as c:
                msgs = [{"role": "user", "content": f"thread {i}"}]
                r = c.call("complete", {"messages": msgs, "models": ["gpt-4o-mini"]}, timeout=30)
                results[i] = r["content"]
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(12)]
    for t in threads:
        t.start()
    try:
        held = H.wait_for(lambda: (lambda rs: rs if len(rs) == 12 else None)(fake.requests(model="gpt-4o-mini")))
        assert held, f"only {len(fake.requests())} of 12 requests reached the provider together"
        assert all(r.get("ended") is None for r in held) and not results and not errors, (results, errors)
    finally:
        fake.release("gpt-4o-mini")
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert len(results) == 12
    for i, content in results.items():
        assert content == f"fake-openai gpt-4o-mini says: thread {i}"


def test_max_in_flight(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=lambda cfg: cfg["daemon"].update(max_in_flight=2))
    fake.script("gpt-4o-mini", [], then="hold")  # the first two stay in flight until released
    with d.conn(timeout=30) as c:
        for i in range(2):
            c.send({"jsonrpc": "2.0", "id": i, "method": "complete",
                    "params": {"messages": [{"role": "user", "content": f"n{i}"}], "models": ["gpt-4o-mini"]}})
        assert H.wait_for(lambda: len(fake.requests(model="gpt-4o-mini")) == 2), "the first two never got going"
        c.send({"jsonrpc": "2.0", "id": 2, "method": "complete",
                "params": {"messages": [{"role": "user", "content": "n2"}], "models": ["gpt-4o-mini"]}})
        over = c.recv(timeout=30)  # the only reply possible before the release
        fake.release("gpt-4o-mini")
        ok = [c.recv(timeout=30) for _ in range(2)]
    assert over["id"] == 2, over
    err = over["error"]
    assert err["code"] == -32005
    assert err["data"]["max_in_flight"] == 2
    assert err["data"]["in_flight"] >= 2
    assert sorted(r["id"] for r in ok) == [0, 1] and all("result" in r for r in ok), ok
    assert len(fake.requests()) == 2, "the refused request reached a provider"
    assert d.call("ping") == "pong"
