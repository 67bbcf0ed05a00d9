"""Cost and shadow helpers for the integration tests (test_cost*.py, test_shadow*.py): config, SQLite queries, polling."""

from __future__ import annotations

import sqlite3

from fbd_helpers import wait_for
from fbd_process import Daemon


def set_cost(cfg: dict, budgets=None, max_cost_ratio=None, shadow=None, shadow_pairs=None) -> dict:
    """Add [budgets], [max_cost_ratio], [shadow] (+ [shadow.pairs]) to a config dict.

    `shadow` replaces the whole [shadow] table. Without it the daemon samples the default 5 % of
    requests, so tests that count provider requests pass shadow={"sample_rate": 0.0}.
    """
    if budgets is not None:
        cfg["budgets"] = dict(budgets)
    if max_cost_ratio is not None:
        cfg["max_cost_ratio"] = dict(max_cost_ratio)
    if shadow is not None:
        cfg["shadow"] = dict(shadow)
    if shadow_pairs is not None:
        cfg.setdefault("shadow", {})["pairs"] = dict(shadow_pairs)
    return cfg


def compose(*mutators):
    """One cfg_mutate running several in order (None entries are skipped)."""
    def run(cfg):
        for m in mutators:
            if m is not None:
                m(cfg)
        return cfg
    return run


def db_query(daemon: "Daemon", sql: str, args=()) -> list[dict]:
    """Rows of any query on the daemon's SQLite file, as dicts."""
    con = sqlite3.connect(daemon.db, timeout=20)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def shadow_results(daemon: "Daemon") -> list[dict]:
    """Every row of `shadow_results`, oldest first."""
    return db_query(daemon, "SELECT * FROM shadow_results ORDER BY id")


def shadow_calls(daemon: "Daemon") -> list[dict]:
    """The call log's shadow rows (`shadow = 1`), oldest first."""
    return daemon.db_rows("WHERE shadow = 1")


def wait_count(fn, n: int, timeout: float = 20.0, what: str = "rows"):
    """Poll fn() (a list) until it has at least n entries; return it, failing after timeout."""
    got = wait_for(lambda: (lambda v: v if len(v) >= n else None)(fn()), timeout=timeout, interval=0.05)
    if not got:
        raise AssertionError(f"expected {n} {what} within {timeout} s, have {len(fn())}")
    return got


def flushed_rows(daemon: "Daemon", where: str = "", args=()) -> list[dict]:
    """The call log's rows after a barrier: `cost.report` flushes the call log before it answers, so every
    attempt of every request answered so far is in SQLite (shadow calls only once they have finished)."""
    daemon.call("cost.report", {"days": 1})
    return daemon.db_rows(where, args)


def stop_settled(daemon: "Daemon"):
    """The barrier for "no (more) calls happened": SIGTERM and a clean exit (code 0, socket removed).

    At shutdown the daemon waits for every shadow call it started (the count is taken before the request
    is answered) and then flushes the call log, so afterwards the fake's request log and the database hold
    every provider call this daemon ever made. Asserting an absence after this cannot pass by being early.
    """
    daemon.stop()
    text = daemon.stderr_text()
    assert "grace period over with shadow calls running" not in text, "a shadow call outlived the grace period"
    assert "closed with unwritten rows" not in text, "the call log lost rows at shutdown"


def rpc_error(reply: dict, code: int) -> dict:
    """The reply's error object, asserting it is one with `code`."""
    assert "error" in reply, f"expected error {code}, got result: {reply}"
    assert reply["error"]["code"] == code, f"expected error {code}, got {reply['error']}"
    return reply["error"]
