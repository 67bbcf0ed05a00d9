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
    conn.expect_silence(0.5)
    assert len(fake.requests()) == 25


def test_concurrent_connections(daemon, fake):
    fake.script("gpt-4o-mini", [], then="slow:200")
    results = {}
    errors = []

    def worker(i):
        try:
            with daemon.conn() as c:
                msgs = [{"role": "user", "content": f"thread {i}"}]
                r = c.call("complete", {"messages": msgs, "models": ["gpt-4o-mini"]}, timeout=15)
                results[i] = r["content"]
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(12)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert len(results) == 12
    for i, content in results.items():
        assert content == f"fake-openai gpt-4o-mini says: thread {i}"
    # 12 x 200 ms one after another would take 2.4 s; concurrently it takes a fraction of that
    assert time.monotonic() - t0 < 2.0


def test_max_in_flight(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=lambda cfg: cfg["daemon"].update(max_in_flight=2))
    fake.script("gpt-4o-mini", [], then="slow:1500")
    with d.conn(timeout=15) as c:
        for i in range(3):
            c.send({"jsonrpc": "2.0", "id": i, "method": "complete",
                    "params": {"messages": [{"role": "user", "content": f"n{i}"}], "models": ["gpt-4o-mini"]}})
        replies = [c.recv(timeout=15) for _ in range(3)]
    over = [r for r in replies if "error" in r]
    ok = [r for r in replies if "result" in r]
    assert len(over) == 1 and len(ok) == 2, replies
    err = over[0]["error"]
    assert err["code"] == -32005
    assert err["data"]["max_in_flight"] == 2
    assert err["data"]["in_flight"] >= 2
    assert d.call("ping") == "pong"
