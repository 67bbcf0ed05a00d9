"""The SQLite call log: one row per attempt, with every column of the contract."""

import datetime
import json
import sqlite3
import time

import fbd_harness as H
from fake_providers import expected_reply

COLUMNS = {
    "id", "timestamp", "ts_ms", "model_name", "success", "latency_ms", "error_type", "request_id", "task", "chain",
    "provider", "attempt_index", "http_status", "input_tokens", "output_tokens", "cost_usd", "metadata",
}

MSGS = [{"role": "user", "content": "Log this call with all its attempts please"}]


def _parse_ts(text):
    assert isinstance(text, str)
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert dt.tzinfo is not None and dt.utcoffset() == datetime.timedelta(0), f"not UTC: {text}"
    return dt.timestamp()


def test_one_row_per_attempt(daemon, fake):
    meta = {"user": "u-42", "tags": ["a", "b"], "n": 3, "nested": {"ok": True}}
    t_start = time.time()
    fake.script("gpt-4o", [{"kind": "rate_limited", "retry_after": 1}], then="rate_limited")
    fake.script("gemini-1.5-flash", [], then="server_error")
    with daemon.conn() as c:
        ra = c.call("complete", {"messages": MSGS, "models": ["gpt-4o", "claude-3-5-sonnet"], "task": "summarize",
                                 "metadata": meta})
        rb = c.call("complete", {"messages": MSGS, "task": "complex_reasoning"})
        rc_reply = c.request("complete", {"messages": MSGS, "models": ["gemini-flash"], "metadata": {"k": "v"}})
    assert rc_reply["error"]["code"] == -32001
    rc_id = rc_reply["error"]["data"]["request_id"]
    t_end = time.time()
    assert len({ra["request_id"], rb["request_id"], rc_id}) == 3, "request ids must be unique"

    daemon.stop()

    con = sqlite3.connect(daemon.db)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(model_calls)")}
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    assert COLUMNS <= cols, f"missing columns: {COLUMNS - cols}"
    assert mode.lower() == "wal"

    rows = daemon.db_rows()
    assert len(rows) == 4, rows  # 2 + 1 + 1 attempts, each exactly once

    a_rows = sorted((r for r in rows if r["request_id"] == ra["request_id"]), key=lambda r: r["attempt_index"])
    assert [r["attempt_index"] for r in a_rows] == [0, 1]
    assert [r["model_name"] for r in a_rows] == ["gpt-4o", "claude-3-5-sonnet"]
    assert [r["provider"] for r in a_rows] == ["openai", "anthropic"]
    assert [r["success"] for r in a_rows] == [0, 1]
    assert [r["error_type"] for r in a_rows] == ["rate_limited", None]
    assert [r["http_status"] for r in a_rows] == [429, 200]
    assert all(r["task"] == "summarize" and r["chain"] == "explicit" for r in a_rows)
    for r in a_rows:
        assert json.loads(r["metadata"]) == meta
    ok = a_rows[1]
    exp = expected_reply("anthropic", "claude-3-5-sonnet-20241022", MSGS)
    assert (ok["input_tokens"], ok["output_tokens"]) == (exp["input_tokens"], exp["output_tokens"])
    assert (ok["input_tokens"], ok["output_tokens"]) == (ra["usage"]["input_tokens"], ra["usage"]["output_tokens"])
    assert H.approx(ok["cost_usd"], ra["cost_usd"])
    assert H.approx(ok["cost_usd"], H.POOL["claude-3-5-sonnet"].cost(exp["input_tokens"], exp["output_tokens"]))
    failed = a_rows[0]
    assert failed["input_tokens"] in (0, None) and failed["output_tokens"] in (0, None)
    assert failed["cost_usd"] in (0, 0.0, None)

    b_rows = [r for r in rows if r["request_id"] == rb["request_id"]]
    assert len(b_rows) == 1
    b = b_rows[0]
    assert (b["task"], b["chain"], b["model_name"], b["provider"]) == (
        "complex_reasoning", "complex_reasoning", "claude-3-5-sonnet", "anthropic")
    assert b["success"] == 1 and b["attempt_index"] == 0 and b["error_type"] is None
    assert b["metadata"] in (None, "{}", "null")

    c_rows = [r for r in rows if r["request_id"] == rc_id]
    assert len(c_rows) == 1
    c = c_rows[0]
    assert (c["model_name"], c["provider"], c["success"], c["error_type"], c["http_status"]) == (
        "gemini-flash", "gemini", 0, "server_error", 500)
    assert (c["task"], c["chain"]) == ("default", "explicit")
    assert json.loads(c["metadata"]) == {"k": "v"}

    for r in rows:
        assert isinstance(r["latency_ms"], int) and r["latency_ms"] >= 0
        ts = _parse_ts(r["timestamp"])
        assert t_start - 5 <= ts <= t_end + 5, r["timestamp"]
        assert isinstance(r["ts_ms"], int)
        assert (t_start - 5) * 1000 <= r["ts_ms"] <= (t_end + 5) * 1000
        assert abs(r["ts_ms"] / 1000 - ts) < 2, "timestamp and ts_ms disagree"


def test_rows_flushed_while_running(daemon, fake):
    """flush_interval_ms = 200: rows become visible to another reader without a shutdown."""
    r = daemon.call("complete", {"messages": MSGS, "models": ["gpt-4o-mini"]})

    def row_visible():
        try:
            return [x for x in daemon.db_rows() if x["request_id"] == r["request_id"]]
        except sqlite3.Error:
            return []

    # polled on purpose (no cost.report barrier): the periodic flush must make the row visible on its own
    rows = H.wait_for(row_visible, interval=0.05)
    assert rows and rows[0]["model_name"] == "gpt-4o-mini" and rows[0]["success"] == 1
    st = daemon.call("status")
    assert st["call_log"]["written"] >= 1
    assert st["call_log"]["failed_flushes"] == 0


def test_many_attempts_all_logged(daemon, fake):
    """12 requests x 2 attempts = 24 rows, no loss, no duplicates.

    The failing primaries rotate (two failures each) so no health/breaker logic can skip them."""
    primaries = ["gpt-4o", "claude-3-5-sonnet", "claude-3-haiku", "gemini-pro", "gemini-flash", "local-llama"]
    kinds = {"openai": ("server_error", 500), "anthropic": ("overloaded", 529), "gemini": ("server_error", 500),
             "compat": ("server_error", 500)}
    for name in primaries:
        m = H.POOL[name]
        fake.script(m.model_id, [], then=kinds[m.flavor][0])
    ids = []
    with daemon.conn() as c:
        for i in range(12):
            primary = primaries[i % len(primaries)]
            r = c.call("complete", {"messages": [{"role": "user", "content": f"n{i}"}],
                                    "models": [primary, "gpt-4o-mini"], "metadata": {"i": i}})
            assert r["model_used"] == "gpt-4o-mini"
            ids.append((primary, r["request_id"]))
    daemon.stop()
    rows = daemon.db_rows()
    assert len(rows) == 24
    assert len({r["id"] for r in rows}) == 24
    for i, (primary, rid) in enumerate(ids):
        mine = sorted((r for r in rows if r["request_id"] == rid), key=lambda r: r["attempt_index"])
        etype, status = kinds[H.POOL[primary].flavor]
        assert [(r["model_name"], r["error_type"], r["http_status"], r["success"]) for r in mine] == [
            (primary, etype, status, 0), ("gpt-4o-mini", None, 200, 1)]
        assert all(json.loads(r["metadata"]) == {"i": i} for r in mine)
